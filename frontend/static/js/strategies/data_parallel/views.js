// strategies/data_parallel/views.js — data parallelism's views, mounted on the page's cards by the names its spec's `views` list uses.
//
// Each mount(ctx) finds its own elements (ctx.$) and returns a view for main.js's render
// loop: {render(state)} and, where it has them, hide, reset, relocalize, setLarge,
// resize, onScrub, animateStep. A panel shows itself only when the run has what it draws
// (the α–β card: any run with a modelled network).

import { isLockstep, stepSummary } from "../../core/selectors.js";
import { createAlphaBeta } from "./alphabeta.js";
import { createCompressionPanel } from "./compressionview.js";
import { createLinkBytes } from "./linkbytes.js";
import { DP } from "./slice.js";
import { createTopology } from "./topology.js";

export const views = {
  // The workers on a ring and the messages of the all-reduce: the topology card's default
  // view (also for single and plugin strategies, whose specs name no topology of their own).
  topology: {
    topology: true,
    mount({ $ }) {
      const topo = createTopology($("topology"), $("replicas-badge"), {
        phaseEl: $("topo-phase"),
        captionEl: $("topo-caption"),
        legendEl: $("topo-legend"),
      });
      return {
        render: (state) => topo.render(state),
        hide: () => topo.hide(),
        reset: () => topo.reset(),
        relocalize: () => topo.relocalize(),
        setLarge: (on) => topo.setLarge(on),
        onScrub: () => topo.cancel(),
        /** A new step while following live: its packets, as fast as its measured comm_ms. */
        animateStep({ step, state }) {
          if (state.strategy !== DP || !isLockstep(state)) return;
          const s = stepSummary(state, step);
          topo.animate({ step, state, commMs: s.commMs });
        },
      };
    },
  },

  link_bytes: {
    mount({ $, stage }) {
      const v = createLinkBytes($("link-bytes"), $("bytes-formula"), $("bytes-table"), $("bytes-note"), (on) => {
        stage.classList.toggle("has-bytes", on);
      });
      return { render: (state) => v.render(state) };
    },
  },

  compression: {
    mount({ $, syncExtras }) {
      const v = createCompressionPanel(
        {
          card: $("compression-panel"),
          title: $("comp-title"),
          stats: $("comp-stats"),
          bytesDiv: $("bytes-chart"),
          errorDiv: $("error-chart"),
          residualDiv: $("residual-chart"),
          residualFig: $("residual-fig"),
          caption: $("comp-caption"),
        },
        syncExtras,
      );
      return {
        render: (state) => v.render(state),
        relocalize: () => v.invalidate(),
        setLarge: (on) => v.setLarge(on),
        resize: () => v.resize(),
      };
    },
  },

  alpha_beta: {
    mount({ $, syncExtras }) {
      const v = createAlphaBeta($("alphabeta-card"), $("alpha-beta-chart"), $("ab-params"), $("ab-caption"), syncExtras);
      // against message size or against the number of workers
      for (const b of document.querySelectorAll("#ab-modes .toggle")) {
        b.addEventListener("click", () => {
          for (const o of document.querySelectorAll("#ab-modes .toggle")) o.classList.toggle("active", o === b);
          v.setXMode(b.dataset.x);
        });
      }
      return {
        render: (state) => v.render(state),
        relocalize: () => v.invalidate(),
        setLarge: (on) => v.setLarge(on),
        resize: () => v.resize(),
      };
    },
  },
};
