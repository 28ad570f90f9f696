package job

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
)

// UpdateOptions are the inputs of "cairn job update".
type UpdateOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for "in 5h" (time.Now when nil).
	Now func() time.Time

	// File is the job's path; "-" reads the standard input.
	File string
	JSON bool
}

// NewCmdUpdate returns "cairn job update". runF replaces the run function
// in tests (nil runs updateRun).
func NewCmdUpdate(f *cmdutil.Factory, runF func(context.Context, *UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "update FILE",
		Aliases: []string{"edit"},
		Short:   "Replace a job's definition",
		Long: "Replace the definition of the job whose id the JSON file (or - for the\n" +
			"standard input) has. Schedules in the file replace the job's; a file without\n" +
			"schedules leaves them as they are (change them with cairn job schedule).\n\n" +
			"cairn job show ID --json prints a job that can be edited and given back here\n" +
			"(what the framework adds, such as history and next runs, is dropped).\n\n" + jobFields,
		Example: "  cairn job update report.json\n" +
			"  cairn job show prod.reports.daily --json | jq '.run.mem = 512' | cairn job update -",
		Args: cmdutil.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return updateRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the cron framework's answer (the job as updated) as JSON")
	return cmd
}

func updateRun(ctx context.Context, opts *UpdateOptions) error {
	job, source, err := readJob(opts.File, opts.IO.In)
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	updated, err := client.UpdateJob(ctx, job)
	if err != nil {
		if ierr := invalid(opts.IO.ErrOut, err, "the job in "+source, "job "+job.ID, "correct the job in "+source+" and update it again"); ierr != nil {
			return ierr
		}
		switch apiclient.JobErrorStatus(err) {
		case http.StatusNotFound:
			return cmdutil.Hintf(err, "job %s does not exist: add it with cairn job add %s", job.ID, opts.File)
		case http.StatusConflict:
			return cmdutil.Hintf(err, "job %s cannot be updated: %s", job.ID, frameworkMessage(err))
		}
		return apiError(err, "updating job "+job.ID)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, updated)
	}
	fmt.Fprintf(opts.IO.Out, "Updated job %s\n", updated.ID)
	printScheduleLines(opts.IO.Out, updated, nowOf(opts.Now))
	return nil
}
