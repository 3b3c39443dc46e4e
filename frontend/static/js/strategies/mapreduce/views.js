// strategies/mapreduce/views.js — MapReduce's views: the master and its workers on the topology card (`mr_cluster`), and the job card (every task on a time axis, what the job measured).
//
// A MapReduce run trains nothing: the page shows the job card in place of the loss chart
// and the decision boundary (the stage's `has-mapreduce` layout).

import { t } from "../../core/i18n.js";
import { createCluster } from "./cluster.js";
import { createJobCard } from "./tasks.js";

export const views = {
  mr_cluster: {
    topology: true,
    mount({ $ }) {
      const caption = $("topo-caption");
      const cluster = createCluster($("topology"), { captionEl: caption });
      const title = $("topology").closest(".card").querySelector(".card-head h2");
      return {
        render: (state) => cluster.render(state),
        hide: () => cluster.hide(),
        reset: () => cluster.reset(),
        relocalize: () => cluster.relocalize(),
        chrome(on) {
          const card = $("topology").closest(".card");
          card.classList.toggle("mapreduce", on);
          if (on) card.classList.remove("no-ring");
          title.dataset.i18n = on ? "card.mrCluster" : "card.topology";
          title.textContent = t(title.dataset.i18n);
          caption.dataset.i18n = "";
        },
      };
    },
  },

  mapreduce: {
    mount({ $, stage }) {
      const v = createJobCard({ card: $("mr-card"), svg: $("mr-gantt"), factsEl: $("mr-facts"), headEl: $("mr-head") }, (on) => stage.classList.toggle("has-mapreduce", on));
      return { render: (state) => v.render(state), relocalize: () => v.relocalize() };
    },
  },
};
