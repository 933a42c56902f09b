package nodekit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// pauseSource is the sandbox's process: it sleeps until asked to stop and
// reaps orphans, which is all the pause container does.
const pauseSource = `#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
static void stop(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, 0, WNOHANG) > 0) {} }
int main(void) {
	signal(SIGINT, stop);
	signal(SIGTERM, stop);
	signal(SIGCHLD, reap);
	for (;;) pause();
}
`

// PauseRootfs compiles a static pause into dir/pause-rootfs/pause (the
// sandbox image's only file) and returns the rootfs directory.
func PauseRootfs(dir string) (string, error) {
	src := filepath.Join(dir, "pause.c")
	if err := os.WriteFile(src, []byte(pauseSource), 0o644); err != nil {
		return "", err
	}
	root := filepath.Join(dir, "pause-rootfs")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	if out, err := exec.Command("gcc", "-static", "-Os", "-o", filepath.Join(root, "pause"), src).CombinedOutput(); err != nil {
		return "", fmt.Errorf("gcc pause: %v\n%s", err, out)
	}
	return root, nil
}
