// strategies/index.js — the strategies whose frontends the page knows; registerStrategies() hands them to the core (main.js calls it first, node tests too).
//
// A strategy without a frontend here (single, a plugin) still runs: the common views
// draw it from the core's state and its spec.

import { registerCatalog } from "../core/i18n.js";
import { registerStrategy } from "../core/registry.js";
import bsp from "./bsp/index.js";
import collectives from "./collectives/index.js";
import dataParallel from "./data_parallel/index.js";
import decentralized from "./decentralized/index.js";
import gfs from "./gfs/index.js";
import gfsTrain from "./gfs_train/index.js";
import localSgd from "./local_sgd/index.js";
import mapreduce from "./mapreduce/index.js";
import parameterServer from "./parameter_server/index.js";
import pipeline from "./pipeline/index.js";
import tensorParallel from "./tensor_parallel/index.js";
import threeD from "./three_d/index.js";
import zero from "./zero/index.js";

export const FRONTENDS = [dataParallel, parameterServer, pipeline, tensorParallel, zero, threeD, decentralized, mapreduce, gfs, gfsTrain, localSgd, collectives, bsp];

/** Register every frontend: its reducer slice, its words and its hooks (twice is harmless). */
export function registerStrategies() {
  for (const f of FRONTENDS) {
    registerStrategy(f);
    registerCatalog(f.catalog);
  }
}
