// i18n/index.js — the common catalogs, one module per feature; core/i18n.js merges them (a strategy's own words come with its frontend).

import article from "./article.js";
import calculator from "./calculator.js";
import charts from "./charts.js";
import compare from "./compare.js";
import faults from "./faults.js";
import hosts from "./hosts.js";
import form from "./form.js";
import lessons from "./lessons.js";
import narration from "./narration.js";
import network from "./network.js";
import page from "./page.js";
import presenter from "./presenter.js";
import room from "./room.js";
import workers from "./workers.js";

export const COMMON_CATALOGS = [page, form, workers, charts, narration, faults, network, presenter, room, compare, lessons, article, calculator, hosts];
