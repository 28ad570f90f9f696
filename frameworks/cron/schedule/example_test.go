package schedule_test

import (
	"fmt"
	"time"

	"github.com/cairn-dc/cairn/frameworks/cron/schedule"
)

func ExampleParseCron() {
	ny, _ := schedule.LoadLocation("America/New_York")
	s, err := schedule.ParseCron("30 2 * * *", ny)
	if err != nil {
		panic(err)
	}
	// 2026-03-08 has no 02:30 in New York: the run is at the end of the gap.
	at := time.Date(2026, 3, 7, 12, 0, 0, 0, ny)
	for range 3 {
		at, _ = s.Next(at)
		fmt.Println(at.Format("Mon Jan 2 15:04 MST"))
	}

	_, err = schedule.ParseCron("61 * * * *", ny)
	fmt.Println(err)
	// Output:
	// Sun Mar 8 03:00 EDT
	// Mon Mar 9 02:30 EDT
	// Tue Mar 10 02:30 EDT
	// cron expression "61 * * * *": minute 61 is out of range (0-59)
}

func ExampleParseInterval() {
	iv, err := schedule.ParseInterval("R3/2026-01-31T09:00:00Z/P1M", time.UTC)
	if err != nil {
		panic(err)
	}
	for at, ok := iv.Next(time.Time{}); ok; at, ok = iv.Next(at) {
		fmt.Println(at.Format("2006-01-02 15:04"))
	}
	// Output:
	// 2026-01-31 09:00
	// 2026-02-28 09:00
	// 2026-03-31 09:00
}

func ExamplePeriod_AddTo() {
	ny, _ := schedule.LoadLocation("America/New_York")
	start := time.Date(2026, 3, 7, 9, 0, 0, 0, ny)
	day, _ := schedule.ParsePeriod("P1D")
	hours, _ := schedule.ParsePeriod("PT24H")
	fmt.Println(day.AddTo(start, 1).Format("Jan 2 15:04 MST"))
	fmt.Println(hours.AddTo(start, 1).Format("Jan 2 15:04 MST"))
	// Output:
	// Mar 8 09:00 EDT
	// Mar 8 10:00 EDT
}
