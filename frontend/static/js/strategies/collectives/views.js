// strategies/collectives/views.js — the collectives playground's view: its card (every rank's buffer before and after, the messages round by round, the bytes and the α–β cost), shown for every collectives run.
//
// The card takes the row of the loss chart and the decision boundary (nothing is trained:
// the stage hides them while it shows, `has-collectives` in app.css).

import { createCollectivesCard } from "./card.js";

export const views = {
  collectives: {
    mount({ $, stage }) {
      const v = createCollectivesCard(
        { card: $("collectives-card"), headEl: $("coll-head"), gridEl: $("coll-grid"), costEl: $("coll-cost"), captionEl: $("coll-caption") },
        (on) => stage.classList.toggle("has-collectives", on),
      );
      return { render: (state) => v.render(state), relocalize: () => v.invalidate() };
    },
  },
};
