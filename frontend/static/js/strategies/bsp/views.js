// strategies/bsp/views.js — the BSP run's view: its card (the supersteps as columns, the messages between the workers, the best vertices, the change per superstep), shown for every BSP run.
//
// Nothing is trained: the card takes the row of the loss chart and the decision
// boundary, which the stage hides while it shows (`has-bsp` in app.css).

import { createBspCard } from "./card.js";

export const views = {
  bsp: {
    mount({ $, stage }) {
      const v = createBspCard(
        { card: $("bsp-card"), headEl: $("bsp-head"), stepsEl: $("bsp-steps"), pairsEl: $("bsp-pairs"), topEl: $("bsp-top"), chartDiv: $("bsp-chart"), nowEl: $("bsp-now"), captionEl: $("bsp-caption") },
        (on) => stage.classList.toggle("has-bsp", on),
      );
      return { render: (state) => v.render(state), resize: () => v.resize(), relocalize: () => v.invalidate() };
    },
  },
};
