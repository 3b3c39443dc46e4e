// strategies/three_d/views.js — 3-D parallelism's views: the mesh card (the pipeline's schedule card draws its pipeline of replica 0, slice 0).

import { createMeshView } from "./mesh.js";

export const views = {
  mesh: {
    mount({ $, stage }) {
      const card = $("mesh-card");
      const v = createMeshView({ card, svg: $("mesh-grid"), selectedEl: $("mesh-selected"), trafficEl: $("mesh-traffic") });
      return {
        render(state) {
          v.render(state);
          stage.classList.toggle("has-mesh", !card.hidden);
        },
        relocalize: () => v.invalidate(),
      };
    },
  },
};
