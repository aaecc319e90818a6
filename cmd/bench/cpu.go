package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/localcluster"
)

// The processes whose CPU a measure splits out; the rest of the machine is the rest.
const (
	roleAPIServer = iota
	roleEtcd
	roleManager
	roleBench
	nRoles
)

var roleNames = [nRoles]string{"API server", "etcd", "manager", "bench"}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every Linux the bench runs
// on (getconf CLK_TCK).
const clockTicks = 100

// cpuSample is the CPU time used so far, in seconds, by each role's process and by the
// whole machine (every core, steal included: time a shared VM's cores served others).
type cpuSample struct {
	at      time.Time
	roles   [nRoles]float64
	machine float64
}

// cpuShare is how busy the machine's cores were over a window, as fractions of all of
// them: by each role, and by everything else (other users of a shared machine).
// Capacity is the CPU seconds all the cores had in the window.
type cpuShare struct {
	Roles    [nRoles]float64
	Rest     float64
	Capacity float64
}

// perWrite is role r's CPU time per write served in the window; 0 without writes.
func (c cpuShare) perWrite(r int, writes float64) time.Duration {
	if writes == 0 {
		return 0
	}
	return time.Duration(c.Roles[r] * c.Capacity / writes * float64(time.Second))
}

// readCPU samples the processes pids (0: not running) and the machine. A process that
// cannot be read counts as idle: the figure is a measurement, never a reason to fail.
func readCPU(pids [nRoles]int) cpuSample {
	s := cpuSample{at: time.Now()}
	for r, pid := range pids {
		if pid > 0 {
			s.roles[r], _ = processCPU(pid)
		}
	}
	s.machine, _ = machineBusy()
	return s
}

// since is the share of the machine's cores each role, and the rest, used from before to s.
func (s cpuSample) since(before cpuSample) cpuShare {
	capacity := s.at.Sub(before.at).Seconds() * float64(runtime.NumCPU())
	if capacity <= 0 {
		return cpuShare{}
	}
	out := cpuShare{Capacity: capacity}
	ours := 0.0
	for r := range nRoles {
		used := max(s.roles[r]-before.roles[r], 0)
		out.Roles[r] = used / capacity
		ours += used
	}
	out.Rest = max(s.machine-before.machine-ours, 0) / capacity
	return out
}

func (c cpuShare) String() string {
	var parts []string
	for r := range nRoles {
		parts = append(parts, fmt.Sprintf("%.0f", 100*c.Roles[r]))
	}
	return strings.Join(append(parts, fmt.Sprintf("%.0f %%", 100*c.Rest)), " / ")
}

// processCPU is the user and system CPU seconds of every thread of process pid.
func processCPU(pid int) (float64, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may hold spaces: fields count from after it.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("parsing /proc/%d/stat: %d fields", pid, len(f))
	}
	utime, uerr := strconv.ParseFloat(f[11], 64) // field 14 of the whole line
	stime, serr := strconv.ParseFloat(f[12], 64)
	if uerr != nil || serr != nil {
		return 0, fmt.Errorf("parsing /proc/%d/stat times", pid)
	}
	return (utime + stime) / clockTicks, nil
}

// machineBusy is the CPU seconds every core spent other than idle or waiting for I/O.
func machineBusy() (float64, error) {
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(stat), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, fmt.Errorf("parsing /proc/stat: %q", line)
	}
	var busy float64
	for i, v := range f[1:] {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("parsing /proc/stat: %q", line)
		}
		// user nice system idle iowait irq softirq steal (guest time is inside user).
		if i != 3 && i != 4 && i < 8 {
			busy += n
		}
	}
	return busy / clockTicks, nil
}

// childPID finds the process named comm that this process started: envtest's
// kube-apiserver and etcd. 0 when there is none.
func childPID(comm string) int {
	for pid, name := range localcluster.Children() {
		if name == comm {
			return pid
		}
	}
	return 0
}
