package nodekit

import "strings"

// CRIPluginsV3 is the CRI part of a test node's containerd 2.x config
// (version 3), shared by the CRI suite's daemon and the Kubernetes nodes:
// the pause image pinned, no OOM score lowering (this machine's process
// cannot), no AppArmor, the CNI plugins in cniBin with their configs in
// cniConf, and plain runc as the default handler. The pause image stays the
// placeholder {pause}, filled with the rest of the caller's template.
func CRIPluginsV3(cniBin, cniConf string) string {
	return strings.NewReplacer("{cniBin}", cniBin, "{cniConf}", cniConf).Replace(criPluginsV3)
}

const criPluginsV3 = `[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'overlayfs'
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = '{pause}'
[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ['{cniBin}']
    conf_dir = '{cniConf}'
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = 'runc'
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = 'io.containerd.runc.v2'
[plugins.'io.containerd.grpc.v1.cri']
  stream_server_port = '0'
`
