// strategies/parameter_server/views.js — the parameter server's views: its topology (servers above workers) and the staleness card.
//
// Mounted like data parallelism's (see strategies/data_parallel/views.js). `ps_topology`
// is the name its spec's `views` list gives the topology card; the staleness card shows
// itself for every parameter-server run.

import { t } from "../../core/i18n.js";
import { createPsTopology } from "./pstopology.js";
import { createPsPanel } from "./psview.js";
import { isPs } from "./slice.js";

export const views = {
  ps_topology: {
    topology: true,
    mount({ $, player, setChartX }) {
      const topo = createPsTopology($("topology"));
      return {
        render: (state) => topo.render(state),
        hide: () => topo.hide(),
        reset: () => topo.reset(),
        relocalize: () => topo.relocalize(),
        /** The newest batch of real pulls, pushes and drops, while following live (skipped,
         *  not queued, when they come faster than they can be drawn). */
        onEvents(events) {
          if (player.mode === "live" && isPs(player.liveState)) topo.animate(events);
        },
        /** The page around the card while this view draws the run (or not any more): the
         *  cards' PS legends, the loss chart's time axis and captions. */
        chrome(on) {
          $("topology").closest(".card").classList.toggle("ps", on);
          $("timeline").closest(".card").classList.toggle("ps", on);
          $("chart-x").hidden = !on;
          const cap = $("chart-caption");
          cap.dataset.i18n = on ? "chart.captionPs" : "chart.caption";
          cap.textContent = t(cap.dataset.i18n);
          if (on) {
            const c = $("topo-caption");
            c.dataset.i18n = "topo.captionPs";
            c.textContent = t("topo.captionPs");
          }
          if (!on) setChartX("step");
        },
      };
    },
  },

  staleness: {
    mount({ $, stage }) {
      const v = createPsPanel(
        { card: $("ps-panel"), plotDiv: $("staleness-histogram"), meanEl: $("ps-mean"), captionEl: $("ps-caption") },
        (on) => {
          stage.classList.toggle("has-ps", on);
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
