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

// AddOptions are the inputs of "cairn job add".
type AddOptions struct {
	IO        cmdutil.IOStreams
	APIClient func() (*apiclient.Client, error)
	// Now is the current time, for "in 5h" (time.Now when nil).
	Now func() time.Time

	// File is the job's path; "-" reads the standard input.
	File string
	JSON bool
}

// jobFields documents a job definition, for add's and update's help.
const jobFields = "A job is Metronome's JSON: \"id\", \"description\", \"labels\", \"run\" (\"cmd\" or\n" +
	"\"args\", \"cpus\" (default 1), \"mem\" (MiB, default 128), \"disk\", \"env\", \"artifacts\",\n" +
	"\"placement\", \"maxLaunchDelay\", \"restart\" ({\"policy\": \"ON_FAILURE\",\n" +
	"\"activeDeadlineSeconds\": 3600, \"maxRetries\": 3}), \"user\"), and either\n" +
	"\"schedules\" (each with an \"id\" and a \"cron\" or an ISO 8601 \"interval\", optionally\n" +
	"\"timezone\", \"concurrencyPolicy\" ALLOW|FORBID|REPLACE, \"startingDeadlineSeconds\",\n" +
	"\"enabled\") or \"parents\" (job ids: the job runs once each has succeeded).\n" +
	"Unknown fields are refused."

// NewCmdAdd returns "cairn job add". runF replaces the run function in
// tests (nil runs addRun).
func NewCmdAdd(f *cmdutil.Factory, runF func(context.Context, *AddOptions) error) *cobra.Command {
	opts := &AddOptions{IO: f.IOStreams, APIClient: f.APIClient}
	cmd := &cobra.Command{
		Use:     "add FILE",
		Aliases: []string{"create"},
		Short:   "Add a job from a JSON definition",
		Long: "Add a job from its JSON definition (a file, or - for the standard input), with\n" +
			"the schedules it embeds. It prints the job's id and when each schedule runs it\n" +
			"next.\n\n" + jobFields,
		Example: "  cairn job add report.json\n" +
			"  echo '" + exampleJob + "' | cairn job add -\n" +
			"  cairn job add report.json --json | jq -r '.schedules[].nextRunAt'",
		Args: cmdutil.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return addRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the cron framework's answer (the job as added) as JSON")
	return cmd
}

func addRun(ctx context.Context, opts *AddOptions) error {
	job, source, err := readJob(opts.File, opts.IO.In)
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	added, err := client.AddJob(ctx, job)
	if err != nil {
		if ierr := invalid(opts.IO.ErrOut, err, "the job in "+source, "job "+job.ID, "correct the job in "+source+" and add it again"); ierr != nil {
			return ierr
		}
		if apiclient.JobErrorStatus(err) == http.StatusConflict {
			// Taken, or another conflict (a cycle through parents ...)?
			if _, gerr := client.Job(ctx, job.ID); gerr == nil {
				return cmdutil.Hintf(err, "job %s already exists: change it with cairn job update %s (or remove it first with cairn job remove %s)",
					job.ID, opts.File, job.ID)
			}
			return cmdutil.Hintf(err, "job %s cannot be added: %s", job.ID, frameworkMessage(err))
		}
		return apiError(err, "adding job "+job.ID)
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, added)
	}
	fmt.Fprintf(opts.IO.Out, "Added job %s\n", added.ID)
	printScheduleLines(opts.IO.Out, added, nowOf(opts.Now))
	return nil
}
