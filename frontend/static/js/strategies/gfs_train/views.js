// strategies/gfs_train/views.js — the reads grid, drawn inside the GFS store card (whose columns the GFS frontend draws for this run too).

import { createReadsGrid } from "./reads.js";
import { isGfsTrain } from "./slice.js";

export const views = {
  gfs_reads: {
    mount({ $, stage }) {
      const v = createReadsGrid({ box: $("gfs-reads"), headEl: $("gfs-head") });
      return {
        render(state) {
          // a training run keeps its loss chart: the store card goes under it (app.css)
          stage.classList.toggle("gfs-train", isGfsTrain(state));
          v.render(state);
        },
        relocalize: () => v.relocalize(),
      };
    },
  },
};
