// strategies/pipeline/views.js — pipeline parallelism's views: its processes drawn as a chain on the topology card, and the schedule grid card.

import { t } from "../../core/i18n.js";
import { createChain } from "./chain.js";
import { createScheduleView } from "./schedule.js";

export const views = {
  // The topology card for a pipeline run (its spec's `views` list names it first): the
  // stages as a chain with the links that carried bytes, not data parallelism's ring.
  pipeline_chain: {
    topology: true,
    mount({ $ }) {
      const chain = createChain($("topology"));
      const caption = $("topo-caption");
      const badge = $("replicas-badge");
      return {
        render(state) {
          chain.render(state);
          // where the link bytes come from: the messages (Detail) or the stages' counters
          const src = $("topology").dataset.chainSource;
          const key = src === "messages" ? "chain.captionMessages" : src === "counters" ? "chain.captionCounters" : src === "schedule" ? "chain.captionInterleaved" : "chain.caption";
          if (caption.dataset.i18n !== key) {
            caption.dataset.i18n = key;
            caption.textContent = t(key);
          }
          // a split model has no replicas to compare
          badge.dataset.state = "split";
          badge.textContent = t("badge.split");
          badge.hidden = false;
        },
        hide: () => chain.hide(),
        reset: () => chain.reset(),
        relocalize: () => {
          chain.relocalize();
          caption.dataset.i18n = "";
        },
        chrome(on) {
          const card = $("topology").closest(".card");
          card.classList.toggle("chain", on);
          if (on) card.classList.remove("no-ring");
          caption.dataset.i18n = "";
        },
      };
    },
  },

  schedule: {
    mount({ $, stage }) {
      const card = $("schedule-card");
      const v = createScheduleView({ card, svg: $("schedule-grid"), summaryEl: $("schedule-summary"), stagesEl: $("schedule-stages"), chunkLegend: $("schedule-chunk-legend") });
      return {
        render(state) {
          v.render(state);
          stage.classList.toggle("has-schedule", !card.hidden);
        },
        relocalize: () => v.invalidate(),
        resize: () => v.invalidate(),
      };
    },
  },
};
