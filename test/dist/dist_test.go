//go:build dist

package dist

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The environment make test-dist sets.
const (
	envDist    = "DIST_DIR"           // what make dist wrote
	envKrew    = "KREW_BIN"           // hack/krew.sh: krew and validate-krew-manifest
	envAssets  = "KUBEBUILDER_ASSETS" // hack/envtest.sh: kubectl
	envVersion = "VERSION"            // the Makefile's VERSION, stamped into the binary
)

// plugin is the part of a krew manifest the tests read.
type plugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version   string     `json:"version"`
		Platforms []platform `json:"platforms"`
	} `json:"spec"`
}

type platform struct {
	Selector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"selector"`
	URI    string `json:"uri"`
	Sha256 string `json:"sha256"`
	Bin    string `json:"bin"`
	Files  []struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"files"`
}

func (p platform) os() string   { return p.Selector.MatchLabels["os"] }
func (p platform) arch() string { return p.Selector.MatchLabels["arch"] }

// binName is the plugin's executable on goos, as krew links it.
func binName(goos string) string {
	if goos == "windows" {
		return "kubectl-baton.exe"
	}
	return "kubectl-baton"
}

// archive is the name make dist gives the platform's archive.
func (p platform) archive() string {
	if p.os() == "windows" {
		return "kubectl-baton_" + p.os() + "_" + p.arch() + ".zip"
	}
	return "kubectl-baton_" + p.os() + "_" + p.arch() + ".tar.gz"
}

// TestManifest checks dist/baton.yaml against the archives beside it, then has krew's own
// validator check it (-skip-install: the validator's install step downloads from the
// release URL; TestInstallEveryPlatform installs every archive offline instead).
func TestManifest(t *testing.T) {
	dist := mustEnv(t, envDist)
	m := readManifest(t)
	if m.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || m.Kind != "Plugin" || m.Metadata.Name != "baton" {
		t.Errorf("manifest is %s %s %q, want krew.googlecontainertools.github.com/v1alpha2 Plugin \"baton\"", m.APIVersion, m.Kind, m.Metadata.Name)
	}
	version := mustEnv(t, envVersion)
	if want := regexp.MustCompile(`[^0-9A-Za-z-]+`).ReplaceAllString(version, "-"); !strings.HasPrefix(m.Spec.Version, "v") ||
		(m.Spec.Version != version && !(strings.HasPrefix(m.Spec.Version, "v0.0.0-") && strings.HasSuffix(m.Spec.Version, "-"+want))) {
		t.Errorf("spec.version %q is neither the tag %q nor v0.0.0-<commit time>-%s", m.Spec.Version, version, want)
	}

	var pairs []string
	for _, p := range m.Spec.Platforms {
		pairs = append(pairs, p.os()+"/"+p.arch())
		data, err := os.ReadFile(filepath.Join(dist, p.archive()))
		if err != nil {
			t.Errorf("the archive of %s/%s: %v", p.os(), p.arch(), err)
			continue
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != p.Sha256 {
			t.Errorf("%s: sha256 %s, manifest says %s", p.archive(), got, p.Sha256)
		}
		sumFile, err := os.ReadFile(filepath.Join(dist, p.archive()+".sha256"))
		if err != nil {
			t.Errorf("the sha256 file of %s: %v", p.archive(), err)
		} else if want := p.Sha256 + "  " + p.archive() + "\n"; string(sumFile) != want {
			t.Errorf("%s.sha256 holds %q, want %q", p.archive(), sumFile, want)
		}
		if u, err := url.Parse(p.URI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || path.Base(u.Path) != p.archive() {
			t.Errorf("%s: uri %q is not an http(s) URL of the archive (%v)", p.archive(), p.URI, err)
		}
		if want := binName(p.os()); p.Bin != want {
			t.Errorf("%s: bin %q, want %q", p.archive(), p.Bin, want)
		}
	}
	slices.Sort(pairs)
	want := []string{"darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64", "windows/amd64", "windows/arm64"}
	if !slices.Equal(pairs, want) {
		t.Errorf("platforms %v, want %v", pairs, want)
	}

	sb := newSandbox(t)
	out, err := sb.run(nil, filepath.Join(mustEnv(t, envKrew), "validate-krew-manifest"),
		"-manifest", filepath.Join(dist, "baton.yaml"), "-skip-install")
	if err != nil {
		t.Fatalf("validate-krew-manifest: %v\n%s", err, out)
	}
	for _, line := range []string{"structural validation OK", "all spec.platform[] items are used", "no overlapping spec.platform[].selector"} {
		if !strings.Contains(out, line) {
			t.Errorf("validate-krew-manifest did not say %q:\n%s", line, out)
		}
	}
}

// TestInstallEveryPlatform installs each platform's archive with `kubectl krew install
// --manifest --archive`, krew told the platform through KREW_OS and KREW_ARCH, and checks
// that krew linked a binary built for that platform and copied every listed file.
func TestInstallEveryPlatform(t *testing.T) {
	m := readManifest(t)
	for _, p := range m.Spec.Platforms {
		t.Run(p.os()+"_"+p.arch(), func(t *testing.T) {
			sb := newSandbox(t)
			sb.install(t, p, "KREW_OS="+p.os(), "KREW_ARCH="+p.arch())
			link := filepath.Join(sb.krewRoot, "bin", binName(p.os()))
			target, err := filepath.EvalSymlinks(link)
			if err != nil {
				t.Fatalf("krew linked no %s: %v", link, err)
			}
			store := filepath.Join(sb.krewRoot, "store", "baton", m.Spec.Version)
			if filepath.Dir(target) != store || filepath.Base(target) != p.Bin {
				t.Errorf("%s points at %s, want %s", link, target, filepath.Join(store, p.Bin))
			}
			checkExecutable(t, target, p.os(), p.arch())
			for _, f := range p.Files {
				if _, err := os.Stat(filepath.Join(store, f.To, f.From)); err != nil {
					t.Errorf("listed file %s was not installed: %v", f.From, err)
				}
			}
			if _, err := os.Stat(filepath.Join(sb.krewRoot, "receipts", "baton.yaml")); err != nil {
				t.Errorf("krew wrote no receipt: %v", err)
			}
		})
	}
}

// TestKubectlPluginDiscovery installs this machine's archive and runs the plugin the way
// a user does, through kubectl with $KREW_ROOT/bin on PATH. (krew list and uninstall
// refuse to run without a cloned index, which an offline machine has none of.)
func TestKubectlPluginDiscovery(t *testing.T) {
	m := readManifest(t)
	i := slices.IndexFunc(m.Spec.Platforms, func(p platform) bool { return p.os() == runtime.GOOS && p.arch() == runtime.GOARCH })
	if i < 0 {
		t.Fatalf("the manifest has no platform for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	sb := newSandbox(t)
	sb.install(t, m.Spec.Platforms[i])
	link := filepath.Join(sb.krewRoot, "bin", "kubectl-baton")

	if out := sb.mustRun(t, "kubectl", "plugin", "list"); !strings.Contains(out, link) {
		t.Errorf("kubectl plugin list does not show %s:\n%s", link, out)
	}
	help := sb.mustRun(t, "kubectl", "baton", "--help")
	for _, want := range []string{"kubectl baton — inspect and steer baton sequences", "submit -f sequence.yaml",
		"--kubeconfig", "--context", "--namespace", "--all-namespaces", "--output"} {
		if !strings.Contains(help, want) {
			t.Errorf("kubectl baton --help does not say %q:\n%s", want, help)
		}
	}
	for _, verb := range []string{"get", "describe", "report", "watch", "submit", "cancel", "retry", "version"} {
		if !regexp.MustCompile(`(?m)^\s+` + verb + `\s`).MatchString(help) {
			t.Errorf("kubectl baton --help lists no verb %s:\n%s", verb, help)
		}
	}
	if got, want := strings.TrimSpace(sb.mustRun(t, "kubectl", "baton", "version")), mustEnv(t, envVersion); got != want {
		t.Errorf("kubectl baton version printed %q, want %q", got, want)
	}
}

// sandbox is an environment of its own for krew and kubectl: KREW_ROOT, HOME, TMPDIR and
// KUBECONFIG in a test directory, PATH holding only $KREW_ROOT/bin and a directory with
// kubectl and kubectl-krew (no git: krew cannot reach its index), proxies pointing at a
// closed port so any download fails at once, and no upgrade check.
type sandbox struct {
	dir, tools, krewRoot string
	env                  []string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	dir := t.TempDir()
	sb := &sandbox{dir: dir, tools: filepath.Join(dir, "tools"), krewRoot: filepath.Join(dir, "krew")}
	tools, home, tmp := sb.tools, filepath.Join(dir, "home"), filepath.Join(dir, "tmp")
	for _, d := range []string{tools, home, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"kubectl":      filepath.Join(mustEnv(t, envAssets), "kubectl"),
		"kubectl-krew": filepath.Join(mustEnv(t, envKrew), "krew"),
	}
	for name, target := range links {
		if _, err := os.Stat(target); err != nil {
			t.Fatalf("%s: %v (make test-dist builds it)", name, err)
		}
		if err := os.Symlink(target, filepath.Join(tools, name)); err != nil {
			t.Fatal(err)
		}
	}
	const closed = "http://127.0.0.1:9"
	sb.env = []string{
		"PATH=" + filepath.Join(sb.krewRoot, "bin") + string(os.PathListSeparator) + tools,
		"HOME=" + home, "TMPDIR=" + tmp, "KREW_ROOT=" + sb.krewRoot, "KREW_NO_UPGRADE_CHECK=1",
		"KUBECONFIG=" + filepath.Join(home, ".kube", "config"),
		"HTTP_PROXY=" + closed, "HTTPS_PROXY=" + closed, "http_proxy=" + closed, "https_proxy=" + closed, "NO_PROXY=", "no_proxy=",
	}
	return sb
}

// install runs `kubectl krew install --manifest --archive` for p, with extra environment.
func (sb *sandbox) install(t *testing.T, p platform, extraEnv ...string) {
	t.Helper()
	dist := mustEnv(t, envDist)
	out, err := sb.run(extraEnv, "kubectl", "krew", "install",
		"--manifest="+filepath.Join(dist, "baton.yaml"), "--archive="+filepath.Join(dist, p.archive()))
	if err != nil {
		t.Fatalf("kubectl krew install %s: %v\n%s", p.archive(), err, out)
	}
	if !strings.Contains(out, "Installed plugin: baton") {
		t.Fatalf("kubectl krew install %s did not say it installed baton:\n%s", p.archive(), out)
	}
}

// run runs name (from the sandbox's tools directory unless absolute) in the sandbox and
// returns its combined output.
func (sb *sandbox) run(extraEnv []string, name string, args ...string) (string, error) {
	if !filepath.IsAbs(name) {
		name = filepath.Join(sb.tools, name)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(slices.Clone(sb.env), extraEnv...)
	cmd.Dir = sb.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (sb *sandbox) mustRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := sb.run(nil, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// checkExecutable fails unless file is an executable for goos/goarch.
func checkExecutable(t *testing.T, file, goos, goarch string) {
	t.Helper()
	var got string
	switch goos {
	case "linux":
		f, err := elf.Open(file)
		if err != nil {
			t.Fatalf("%s is not an ELF executable: %v", file, err)
		}
		defer f.Close()
		got = map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64"}[f.Machine]
	case "darwin":
		f, err := macho.Open(file)
		if err != nil {
			t.Fatalf("%s is not a Mach-O executable: %v", file, err)
		}
		defer f.Close()
		got = map[macho.Cpu]string{macho.CpuAmd64: "amd64", macho.CpuArm64: "arm64"}[f.Cpu]
	case "windows":
		f, err := pe.Open(file)
		if err != nil {
			t.Fatalf("%s is not a PE executable: %v", file, err)
		}
		defer f.Close()
		got = map[uint16]string{pe.IMAGE_FILE_MACHINE_AMD64: "amd64", pe.IMAGE_FILE_MACHINE_ARM64: "arm64"}[f.Machine]
	default:
		t.Fatalf("no check for %s executables", goos)
	}
	if got != goarch {
		t.Errorf("%s is built for %s/%q, want %s/%s", file, goos, got, goos, goarch)
	}
}

func readManifest(t *testing.T) plugin {
	t.Helper()
	file := filepath.Join(mustEnv(t, envDist), "baton.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("reading the manifest (make dist writes it): %v", err)
	}
	var m plugin
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("decoding %s: %v", file, err)
	}
	return m
}

func mustEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run make test-dist", name)
	}
	return v
}
