package wrapper

import "os/exec"

func readKernelLog() (string, error) {
	out, err := exec.Command("dmesg").Output()
	return string(out), err
}
