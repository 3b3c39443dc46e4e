// strategies/decentralized/views.js — decentralized SGD's views: the gossip graph on the topology card, and the replicas card (the consensus distance over the steps, each worker's checksum).
//
// Mounted like the pipeline's (strategies/pipeline/views.js): `gossip_graph` is the name
// its spec's `views` list gives the topology card; the replicas card shows itself for
// every decentralized run.

import { t } from "../../core/i18n.js";
import { createConsensusPanel } from "./consensus.js";
import { createGossipGraph } from "./graph.js";

export const views = {
  // The workers on the graph they gossip over, not data parallelism's ring (there is no
  // all-reduce): the edges lit with what the shown step sent over them.
  gossip_graph: {
    topology: true,
    mount({ $ }) {
      const caption = $("topo-caption");
      const graph = createGossipGraph($("topology"), { captionEl: caption, headEl: $("gossip-head"), badgeEl: $("replicas-badge") });
      const title = $("topology").closest(".card").querySelector(".card-head h2");
      return {
        render: (state) => graph.render(state),
        hide: () => graph.hide(),
        reset: () => graph.reset(),
        relocalize: () => graph.relocalize(),
        /** The card around the drawing while this view draws the run (or not any more):
         *  its title, its legend (status fill only), its caption. */
        chrome(on) {
          const card = $("topology").closest(".card");
          card.classList.toggle("gossip", on);
          if (on) card.classList.remove("no-ring");
          title.dataset.i18n = on ? "card.gossip" : "card.topology";
          title.textContent = t(title.dataset.i18n);
          caption.dataset.i18n = "";
        },
      };
    },
  },

  gossip: {
    mount({ $, stage }) {
      const v = createConsensusPanel(
        {
          card: $("gossip-card"),
          chartDiv: $("gossip-consensus"),
          nowEl: $("gossip-now"),
          checksumsEl: $("gossip-checksums"),
          captionEl: $("gossip-caption"),
        },
        (on) => {
          stage.classList.toggle("has-gossip", on);
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
