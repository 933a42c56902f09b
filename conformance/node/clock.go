package node

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// userHZ is the unit of /proc/PID/stat's start time: USER_HZ, which is 100
// on every Linux architecture sysgate runs on (the x86 family).
const userHZ = 100

var bootTime struct {
	once sync.Once
	t    time.Time
	err  error
}

// Started is when the task started, by the wall clock: the boot time
// (/proc/stat btime, whole seconds) plus its start in clock ticks. It is
// good to about a second, which is what matching it against the time a
// decision was logged needs.
func (t Task) Started() (time.Time, error) {
	bootTime.once.Do(func() { bootTime.t, bootTime.err = readBootTime() })
	if bootTime.err != nil {
		return time.Time{}, bootTime.err
	}
	return bootTime.t.Add(time.Duration(t.StartTicks) * time.Second / userHZ), nil
}

func readBootTime() (time.Time, error) {
	f, err := os.Open(ProcRoot + "/stat")
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "btime "); ok {
			secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("%s/stat: btime %q: %w", ProcRoot, v, err)
			}
			return time.Unix(secs, 0), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s/stat has no btime", ProcRoot)
}
