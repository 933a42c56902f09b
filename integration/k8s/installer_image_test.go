package k8s

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sysgate/sysgate/conformance/bundle"
	"github.com/sysgate/sysgate/integration/nodekit"
)

// installerImage stands in for deploy/Dockerfile's image, which needs
// alpine's package index (apk), unreachable here. It holds the same tools
// from this machine: busybox-static for alpine's /bin/sh and coreutils,
// util-linux's nsenter with the shared libraries ldd names, kubectl from the
// Kubernetes build, and sysgate's static binaries under /sysgate/bin.
// TestInstallerImageMatchesDockerfile keeps the two from drifting apart.
const installerImage = "sysgate.test/installer:1"

// dockerfilePackageTools: what each package deploy/Dockerfile installs is
// there for, as a path in the image. A package added to the Dockerfile and
// not here fails the test: the local image must get it too.
var dockerfilePackageTools = map[string][]string{
	"util-linux": {"/usr/bin/nsenter"},
	"kubectl":    {"/usr/bin/kubectl"},
}

// scriptTools are the commands install.sh and uninstall.sh run, which the
// image must have (alpine's busybox gives the plain ones).
var scriptTools = []string{"sh", "cp", "mv", "mkdir", "grep", "basename", "rm", "rmdir", "sleep", "nsenter", "kubectl"}

// writeInstallerImage builds the image's rootfs under dir and writes its
// OCI archive to dir/installer.oci.tar; it returns the rootfs.
func writeInstallerImage(dir, sysgateBin string) (string, error) {
	root := filepath.Join(dir, "installer-rootfs")
	if err := bundle.Rootfs(root); err != nil {
		return "", err
	}
	// busybox's own nsenter applet must not shadow util-linux's.
	os.Remove(filepath.Join(root, "bin", "nsenter"))
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		return "", fmt.Errorf("nsenter: %v (util-linux)", err)
	}
	libs, err := sharedLibs(nsenter)
	if err != nil {
		return "", err
	}
	for _, f := range append([]string{nsenter}, libs...) {
		dst := filepath.Join(root, f)
		if f == nsenter {
			dst = filepath.Join(root, "usr/bin/nsenter")
		}
		if err := copyExecutable(f, dst); err != nil {
			return "", err
		}
	}
	if err := copyExecutable(k8sBin("kubectl"), filepath.Join(root, "usr/bin/kubectl")); err != nil {
		return "", err
	}
	for _, b := range nodekit.Binaries {
		if err := copyExecutable(filepath.Join(sysgateBin, b), filepath.Join(root, "sysgate/bin", b)); err != nil {
			return "", err
		}
	}
	data, err := nodekit.Archive(installerImage, root, nodekit.Config{Cmd: []string{"/bin/sh"},
		Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}})
	if err != nil {
		return "", err
	}
	return root, os.WriteFile(filepath.Join(dir, "installer.oci.tar"), data, 0o644)
}

var lddLine = regexp.MustCompile(`(?:=>\s*)?(/\S+)\s+\(0x`)

// sharedLibs are the files ldd says bin loads (the dynamic loader too).
func sharedLibs(bin string) ([]string, error) {
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %v", bin, err)
	}
	var libs []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if m := lddLine.FindStringSubmatch(sc.Text()); m != nil {
			libs = append(libs, m[1])
		}
	}
	if len(libs) == 0 {
		return nil, fmt.Errorf("ldd %s named no library:\n%s", bin, out)
	}
	return libs, nil
}

// copyExecutable copies src's content (through symlinks) to dst, 0755.
func copyExecutable(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

var (
	dockerfileFrom = regexp.MustCompile(`(?m)^FROM\s+(\S+)`)
	dockerfileApk  = regexp.MustCompile(`(?m)^RUN\s+apk add\s+(.*)$`)
	dockerfileCopy = regexp.MustCompile(`(?m)^COPY\s+(.*)\s+(\S+)$`)
)

// TestInstallerImageMatchesDockerfile: the locally built installer image
// has every tool deploy/Dockerfile's has, and each runs in it (chroot), so
// nsenter's libraries came along. Every Dockerfile instruction it does not
// understand fails it, so a change to the Dockerfile must be mirrored here.
func TestInstallerImageMatchesDockerfile(t *testing.T) {
	c := requireCluster(t) // its sysgate binaries; kubectl from hack/build-k8s.sh
	dockerfile, err := os.ReadFile(filepath.Join("..", "..", "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, line := range strings.Split(string(dockerfile), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case dockerfileFrom.MatchString(line):
			if m := dockerfileFrom.FindStringSubmatch(line); !strings.HasPrefix(m[1], "alpine:") {
				t.Errorf("Dockerfile FROM %s: the local image mirrors alpine (busybox's /bin/sh)", m[1])
			}
			want = append(want, "/bin/sh")
		case dockerfileApk.MatchString(line):
			for _, pkg := range strings.Fields(dockerfileApk.FindStringSubmatch(line)[1]) {
				if strings.HasPrefix(pkg, "-") {
					continue
				}
				tools, ok := dockerfilePackageTools[pkg]
				if !ok {
					t.Errorf("Dockerfile installs %s, which the local installer image does not mirror (dockerfilePackageTools)", pkg)
				}
				want = append(want, tools...)
			}
		case dockerfileCopy.MatchString(line):
			m := dockerfileCopy.FindStringSubmatch(line)
			for _, src := range strings.Fields(m[1]) {
				want = append(want, filepath.Join(m[2], filepath.Base(src)))
			}
		default:
			t.Errorf("Dockerfile line %q: not mirrored by the local installer image; teach this test", line)
		}
	}
	root, err := writeInstallerImage(t.TempDir(), c.tools)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range scriptTools {
		want = append(want, "/bin/"+tool)
	}
	for _, path := range want {
		found := path
		if _, err := os.Stat(filepath.Join(root, path)); err != nil && strings.HasPrefix(path, "/bin/") {
			found = "/usr" + path // util-linux and kubectl live in /usr/bin
		}
		if info, err := os.Stat(filepath.Join(root, found)); err != nil || info.Mode()&0o111 == 0 {
			t.Errorf("the local installer image lacks %s: %v", path, err)
		}
	}
	for _, run := range [][]string{{"/usr/bin/nsenter", "--version"}, {"/usr/bin/kubectl", "version", "--client"}, {"/bin/sh", "-c", "echo ok"}, {"/sysgate/bin/sysgate", "version"}} {
		if out, err := exec.Command("chroot", append([]string{root}, run...)...).CombinedOutput(); err != nil {
			t.Errorf("chroot %s %v: %v\n%s", root, run, err, out)
		}
	}
}
