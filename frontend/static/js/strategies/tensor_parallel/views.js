// strategies/tensor_parallel/views.js — tensor parallelism's views: the shards card (the topology card keeps the default ring of processes).

import { createShardsView } from "./shards.js";

export const views = {
  tp_shards: {
    mount({ $, stage }) {
      const card = $("tp-card");
      const v = createShardsView({ card, holdsEl: $("tp-holds"), tableEl: $("tp-table"), formulaEl: $("tp-formula") });
      return {
        render(state) {
          v.render(state);
          stage.classList.toggle("has-tp", !card.hidden);
        },
        relocalize: () => v.invalidate(),
      };
    },
  },
};
