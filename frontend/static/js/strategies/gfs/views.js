// strategies/gfs/views.js — GFS's view: the store card (every chunkserver's chunks, the reads of the shown epoch, what it checked).
//
// A GFS run trains nothing: the page shows the store card in place of the loss chart
// and the decision boundary (the stage's `has-gfs` layout).

import { createStoreCard } from "./store.js";

export const views = {
  gfs: {
    mount({ $, stage }) {
      const v = createStoreCard({ card: $("gfs-card"), svg: $("gfs-store"), factsEl: $("gfs-facts"), headEl: $("gfs-head") }, (on) => stage.classList.toggle("has-gfs", on));
      return { render: (state) => v.render(state), relocalize: () => v.relocalize() };
    },
  },
};
