// strategies/pipeline/views.js — pipeline parallelism's views: the schedule grid card (the topology card keeps the default ring of processes).

import { createScheduleView } from "./schedule.js";

export const views = {
  schedule: {
    mount({ $, stage }) {
      const card = $("schedule-card");
      const v = createScheduleView({ card, svg: $("schedule-grid"), summaryEl: $("schedule-summary"), stagesEl: $("schedule-stages") });
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
