package api

import (
	"context"

	"github.com/danielgtaylor/huma/v2"
)

type scheduleView struct {
	Name    string `json:"name" example:"generate-mock-data"`
	Spec    string `json:"spec" doc:"Cron spec with seconds, or @every." example:"*/2 * * * * *"`
	LastRun string `json:"lastRun,omitempty" format:"date-time" doc:"The last slot fired by any instance; absent before the first."`
	NextRun string `json:"nextRun,omitempty" format:"date-time" doc:"The next slot due; absent when none is."`
}

var listSchedulesOp = huma.Operation{
	OperationID: "listSchedules",
	Summary:     "List schedules",
	Description: "Lists the cron schedules with their last and next run. Each slot fires once across all " +
		"eventsd processes. A process that runs no scheduler lists none.",
	Tags: []string{"schedules"},
}

type schedulePage struct {
	Items []scheduleView `json:"items" nullable:"false"`
}

type listSchedulesOutput struct{ Body schedulePage }

func (a *API) listSchedules(ctx context.Context, _ *struct{}) (*listSchedulesOutput, error) {
	out := &listSchedulesOutput{}
	out.Body.Items = []scheduleView{}
	if a.cfg.Schedules == nil {
		return out, nil
	}
	infos, err := a.cfg.Schedules.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range infos {
		out.Body.Items = append(out.Body.Items, scheduleView{
			Name:    s.Name,
			Spec:    s.Spec,
			LastRun: formatOptionalTime(s.LastRun),
			NextRun: formatOptionalTime(s.NextRun),
		})
	}
	return out, nil
}
