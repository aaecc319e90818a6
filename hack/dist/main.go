// Command dist builds the release archives of the kubectl plugin and their krew manifest:
// `make dist` runs it from the repository root. For every platform it cross-compiles
// ./cmd/kubectl-baton (CGO_ENABLED=0, -trimpath, the Makefile's -ldflags), packs the
// binary and the repository's license files into dist/kubectl-baton_OS_ARCH.tar.gz (.zip
// for windows), writes the archive's sha256 beside it, and renders hack/krew/baton.yaml.tmpl
// into dist/baton.yaml. Archives are reproducible: entries are sorted, owned by root and
// dated at the commit (SOURCE_DATE_EPOCH overrides).
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"
)

const (
	binName      = "kubectl-baton"
	pluginName   = "baton"
	manifestName = pluginName + ".yaml"
	homepage     = "https://github.com/batonhq/baton"
)

// licenseNames are the file names krew's manifest validator accepts as a license, lower case.
var licenseNames = []string{"license", "license.txt", "license.md", "licenses", "licenses.txt", "licenses.md", "copying", "copying.txt"}

// semverTag is a git tag krew takes as the plugin's version as it is.
var semverTag = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$`)

type options struct {
	version   string
	ldflags   string
	uri       string
	out       string
	tmpl      string
	platforms string
}

// platform is one entry of the manifest's spec.platforms.
type platform struct {
	OS, Arch string
	Archive  string
	URI      string
	Sha256   string
	Bin      string
	Files    []string
}

// manifest is what baton.yaml.tmpl renders.
type manifest struct {
	Version   string
	Homepage  string
	Platforms []platform
}

func main() {
	var o options
	flag.StringVar(&o.version, "version", "", "the build's version, as the Makefile's VERSION (git describe)")
	flag.StringVar(&o.ldflags, "ldflags", "", "-ldflags for go build, as the Makefile's LDFLAGS")
	flag.StringVar(&o.uri, "uri", homepage+"/releases/download/{{.Version}}/{{.Archive}}",
		"where an archive is published: a text/template over .Version (the manifest's), .Archive, .OS and .Arch")
	flag.StringVar(&o.out, "o", "dist", "output directory, emptied first")
	flag.StringVar(&o.tmpl, "template", "hack/krew/baton.yaml.tmpl", "the krew manifest template")
	flag.StringVar(&o.platforms, "platforms", "linux/amd64,linux/arm64,darwin/amd64,darwin/arm64,windows/amd64,windows/arm64",
		"comma-separated GOOS/GOARCH pairs")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "dist:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.version == "" {
		return errors.New("-version is required")
	}
	if err := resetOut(o.out); err != nil {
		return err
	}
	mtime, err := sourceDate()
	if err != nil {
		return err
	}
	version := semver(o.version, mtime)
	uri, err := template.New("uri").Option("missingkey=error").Parse(o.uri)
	if err != nil {
		return fmt.Errorf("parsing -uri: %w", err)
	}
	licenses, err := licenseFiles(".")
	if err != nil {
		return err
	}
	m := manifest{Version: version, Homepage: homepage}
	for _, pair := range strings.Split(o.platforms, ",") {
		goos, goarch, ok := strings.Cut(strings.TrimSpace(pair), "/")
		if !ok {
			return fmt.Errorf("platform %q is not GOOS/GOARCH", pair)
		}
		p, err := buildPlatform(o, goos, goarch, licenses, mtime)
		if err != nil {
			return err
		}
		var b strings.Builder
		if err := uri.Execute(&b, map[string]string{"Version": version, "Archive": p.Archive, "OS": goos, "Arch": goarch}); err != nil {
			return fmt.Errorf("rendering the uri of %s: %w", p.Archive, err)
		}
		p.URI = b.String()
		m.Platforms = append(m.Platforms, p)
	}
	if err := os.RemoveAll(filepath.Join(o.out, ".build")); err != nil {
		return fmt.Errorf("removing the build directory: %w", err)
	}
	return render(o.tmpl, filepath.Join(o.out, manifestName), m)
}

// resetOut empties the output directory, refusing one that holds a Go module (the
// repository root, by mistake).
func resetOut(out string) error {
	if _, err := os.Stat(filepath.Join(out, "go.mod")); err == nil {
		return fmt.Errorf("refusing to empty %s: it holds a go.mod", out)
	}
	if err := os.RemoveAll(out); err != nil {
		return fmt.Errorf("emptying %s: %w", out, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", out, err)
	}
	return nil
}

// sourceDate is SOURCE_DATE_EPOCH when set, else the commit time of HEAD.
func sourceDate() (time.Time, error) {
	epoch := os.Getenv("SOURCE_DATE_EPOCH")
	if epoch == "" {
		out, err := exec.Command("git", "log", "-1", "--format=%ct").Output()
		if err != nil {
			return time.Time{}, fmt.Errorf("reading the commit time (set SOURCE_DATE_EPOCH outside a git checkout): %w", err)
		}
		epoch = strings.TrimSpace(string(out))
	}
	secs, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("parsing the source date %q: %w", epoch, err)
	}
	return time.Unix(secs, 0).UTC(), nil
}

// semver is the manifest's version: a semver tag as it is; anything else (a commit hash,
// maybe -dirty) as v0.0.0-<commit time>-<version>, which orders by commit time the way Go
// pseudo-versions do.
func semver(version string, commit time.Time) string {
	if semverTag.MatchString(version) {
		return version
	}
	clean := regexp.MustCompile(`[^0-9A-Za-z-]+`).ReplaceAllString(version, "-")
	return "v0.0.0-" + commit.Format("20060102150405") + "-" + clean
}

// licenseFiles lists the files of dir that krew takes as a license, sorted.
func licenseFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	var found []string
	for _, e := range entries {
		for _, name := range licenseNames {
			if e.Type().IsRegular() && strings.ToLower(e.Name()) == name {
				found = append(found, e.Name())
			}
		}
	}
	return found, nil
}

// buildPlatform cross-compiles the plugin for one platform and packs its archive.
func buildPlatform(o options, goos, goarch string, licenses []string, mtime time.Time) (platform, error) {
	bin := binName
	ext := ".tar.gz"
	if goos == "windows" {
		bin += ".exe"
		ext = ".zip"
	}
	p := platform{OS: goos, Arch: goarch, Bin: bin, Archive: binName + "_" + goos + "_" + goarch + ext,
		Files: append([]string{bin}, licenses...)}
	built := filepath.Join(o.out, ".build", goos+"_"+goarch, bin)
	fmt.Fprintf(os.Stderr, "building %s for %s/%s\n", binName, goos, goarch)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", o.ldflags, "-o", built, "./cmd/kubectl-baton")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return p, fmt.Errorf("building %s for %s/%s: %w", binName, goos, goarch, err)
	}
	entries := []entry{{name: bin, path: built, mode: 0o755}}
	for _, l := range licenses {
		entries = append(entries, entry{name: l, path: l, mode: 0o644})
	}
	data, err := pack(ext, entries, mtime)
	if err != nil {
		return p, fmt.Errorf("packing %s: %w", p.Archive, err)
	}
	sum := sha256.Sum256(data)
	p.Sha256 = hex.EncodeToString(sum[:])
	archive := filepath.Join(o.out, p.Archive)
	if err := os.WriteFile(archive, data, 0o644); err != nil {
		return p, fmt.Errorf("writing %s: %w", archive, err)
	}
	if err := os.WriteFile(archive+".sha256", []byte(p.Sha256+"  "+p.Archive+"\n"), 0o644); err != nil {
		return p, fmt.Errorf("writing the sha256 of %s: %w", archive, err)
	}
	return p, nil
}

// entry is one file of an archive.
type entry struct {
	name, path string
	mode       int64
}

// pack writes entries, in order, into a tar.gz or a zip archive.
func pack(ext string, entries []entry, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	if ext == ".zip" {
		zw := zip.NewWriter(&buf)
		for _, e := range entries {
			h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime}
			h.SetMode(os.FileMode(e.mode))
			w, err := zw.CreateHeader(h)
			if err != nil {
				return nil, fmt.Errorf("adding %s: %w", e.name, err)
			}
			if err := copyFile(w, e.path); err != nil {
				return nil, err
			}
		}
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("closing the zip archive: %w", err)
		}
		return buf.Bytes(), nil
	}
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		info, err := os.Stat(e.path)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", e.path, err)
		}
		h := &tar.Header{Name: e.name, Mode: e.mode, Size: info.Size(), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("adding %s: %w", e.name, err)
		}
		if err := copyFile(tw, e.path); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("closing the tar stream: %w", err)
	}
	if err := gz.Close(); err != nil {
		return nil, fmt.Errorf("closing the gzip stream: %w", err)
	}
	return buf.Bytes(), nil
}

func copyFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("copying %s: %w", path, err)
	}
	return nil
}

// render writes the krew manifest.
func render(tmplPath, out string, m manifest) error {
	t, err := template.New(filepath.Base(tmplPath)).Option("missingkey=error").ParseFiles(tmplPath)
	if err != nil {
		return fmt.Errorf("parsing %s: %w", tmplPath, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, m); err != nil {
		return fmt.Errorf("rendering %s: %w", tmplPath, err)
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	fmt.Fprintf(os.Stderr, "wrote %s (version %s, %d platforms)\n", out, m.Version, len(m.Platforms))
	return nil
}
