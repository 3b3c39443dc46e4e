// strategies/local_sgd/views.js — local SGD's view: the replicas card (`local_replicas` in its spec's `views`), in a row of its own above the timeline; the topology card stays data parallelism's ring, which the averaging all-reduce runs over.

import { createReplicasPanel } from "./replicas.js";

export const views = {
  local_replicas: {
    mount({ $, stage }) {
      const v = createReplicasPanel(
        {
          card: $("lsgd-card"),
          chartDiv: $("lsgd-chart"),
          headEl: $("lsgd-head"),
          nowEl: $("lsgd-now"),
          bytesEl: $("lsgd-bytes"),
          captionEl: $("lsgd-caption"),
        },
        (on) => {
          stage.classList.toggle("has-lsgd", on);
          requestAnimationFrame(() => v.resize());
        },
      );
      return {
        render: (state) => v.render(state),
        relocalize: () => v.invalidate(),
        setLarge: (on) => v.setLarge(on),
        resize: () => v.resize(),
      };
    },
  },
};
