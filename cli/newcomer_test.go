package cli

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// What a newcomer tripped on, on the command line.

// A KLAXON_* value is read by its flag's own parser: one the flag would
// refuse stops the start, naming the variable (exit 2), instead of being
// ignored or turned into a default.
func TestEnvironmentIsReadLikeTheFlags(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{"KLAXON_ACCEPT_ANY_TOKEN", "yes", "true or false"},
		{"KLAXON_KEEP_RESOLVED", "forever", "a duration"},
		{"KLAXON_REALERT", "garbage", "SEVERITY=DURATION"},
		{"KLAXON_JOURNAL_LIMIT", "lots", "a whole number"},
		{"KLAXON_RATE_LIMIT", "fast", "a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(tc.name, tc.value)
			dir := t.TempDir()
			code, _, errOut := run(t, "serve", "--listen", freeAddr(t), "--data-dir", dir)
			if code != 2 || !strings.Contains(errOut, tc.name+`="`+tc.value+`"`) || !strings.Contains(errOut, tc.want) {
				t.Fatalf("%s=%s: %d %q", tc.name, tc.value, code, errOut)
			}
			if _, err := os.Stat(filepath.Join(dir, "klaxon.db")); err == nil {
				t.Fatal("it started anyway")
			}
			// --help still helps.
			if code, _, errOut := run(t, "serve", "--help"); code != 0 || !strings.Contains(errOut, "usage:") {
				t.Fatalf("--help with a bad %s: %d %q", tc.name, code, errOut)
			}
		})
	}

	t.Run("good values apply, and the command line wins", func(t *testing.T) {
		t.Setenv("KLAXON_KEEP_RESOLVED", "48h")
		t.Setenv("KLAXON_ACCEPT_ANY_TOKEN", "1")
		t.Setenv("KLAXON_REALERT", "sev1=1m")
		t.Setenv("KLAXON_LISTEN", "127.0.0.1:1")
		var c Config
		fs := newFlagSet("klaxon serve", "klaxon serve [flags]", "", &syncBuffer{})
		serverFlags(fs, &c)
		if _, err := parse(fs, []string{"--listen", "127.0.0.1:2"}); err != nil {
			t.Fatal(err)
		}
		if c.Retention.ResolvedFor != 48*time.Hour || !c.AcceptAnyToken || c.Realert.String() != "sev1=1m0s" || c.Listen != "127.0.0.1:2" {
			t.Fatalf("config %+v", c)
		}
		// A flag set from the environment is not "given" (bench child
		// durable needs --data-dir named on its command line).
		fs.Visit(func(f *flag.Flag) {
			if f.Name != "listen" {
				t.Errorf("--%s counts as given", f.Name)
			}
		})
	})
}

// A wrong command line prints the error, the usage line and where the help
// is: not the whole flag list.
func TestUsageErrorsAreShort(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"incident"}, []string{`unknown command "incident"; did you mean incidents?`, "see klaxon help"}},
		{[]string{"reslove", "3"}, []string{"did you mean resolve?"}},
		{[]string{"incidents", "--staus", "open"}, []string{"unknown flag --staus (did you mean --status?)", "usage: klaxon incidents [", "see klaxon incidents --help"}},
		{[]string{"ack"}, []string{"ack takes incident IDs", "usage: klaxon ack ID…", "see klaxon ack --help"}},
		{[]string{"integrations", "rmove", "x"}, []string{"did you mean remove?", "see klaxon integrations --help"}},
		{[]string{"severity", "3", "sev9"}, []string{`"sev9" is not a severity`}},
		{[]string{"completion", "tcsh"}, []string{`no completion for "tcsh"`}},
	} {
		code, out, errOut := run(t, tc.args...)
		if code != 2 || out != "" {
			t.Errorf("%v: exit %d, stdout %q", tc.args, code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: %q lacks %q", tc.args, errOut, w)
			}
		}
		if n := strings.Count(errOut, "\n"); n > 4 {
			t.Errorf("%v: %d lines of usage error:\n%s", tc.args, n, errOut)
		}
	}
	// --help still prints everything.
	code, _, errOut := run(t, "incidents", "--help")
	if code != 0 || !strings.Contains(errOut, "-integration") || !strings.Contains(errOut, "-format") {
		t.Fatalf("incidents --help: %d %q", code, errOut)
	}
}

// Acting on incidents says what changed and what already was so, one line
// an incident, and for several how many changed; --all takes what the
// filters select; resolving --all asks first.
func TestActsSayWhatChanged(t *testing.T) {
	bothBackends(t, func(t *testing.T, addr, dir string) {
		common := []string{"--listen", addr, "--data-dir", dir}
		runc := func(stdin string, interactive bool, args ...string) (int, string, string) {
			t.Helper()
			var out, errb syncBuffer
			code := Run(context.Background(), append(args, common...), Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Interactive: interactive})
			return code, out.String(), errb.String()
		}
		expect := func(wantCode int, want string, args ...string) string {
			t.Helper()
			code, out, errOut := runc("", false, args...)
			if code != wantCode || !strings.Contains(out+errOut, want) {
				t.Fatalf("%v: %d %q %q, want %d and %q", args, code, out, errOut, wantCode, want)
			}
			return out
		}
		expect(0, "integration test", "integrations", "add", "test")
		url := webhookURL(t, common, "test")
		for _, title := range []string{"disk a", "disk b", "disk c"} {
			if code, out := deliver(t, addr, dir, url, title, "--severity", "sev2"); code != 200 {
				t.Fatalf("send: %d %q", code, out)
			}
		}

		expect(0, "#1 acknowledged: disk a", "ack", "1")
		expect(0, "#1 already acknowledged: disk a", "ack", "#1")
		out := expect(0, "2 of 3 changed", "ack", "1", "2", "3")
		if !strings.Contains(out, "#1 already acknowledged") || !strings.Contains(out, "#2 acknowledged") || !strings.Contains(out, "#3 acknowledged") {
			t.Fatalf("ack 1 2 3: %q", out)
		}
		expect(0, "#1 unacknowledged, triggered again", "unack", "1")
		expect(0, "#1 already triggered", "unack", "1")
		expect(0, "#2 severity sev2 → sev1", "severity", "2", "sev1")
		expect(0, "#2 severity already sev1", "severity", "2", "SEV1")
		expect(0, "#2 severity sev1 → none", "severity", "2", "none")
		expect(0, "#3 priority none → p2", "priority", "3", "p2")
		expect(0, "#3 priority already p2", "priority", "3", "p2")
		expect(1, "there is no incident #99", "ack", "99")
		expect(2, "the filters select incidents with --all", "ack", "--integration", "test")
		expect(2, "not both", "ack", "1", "--all")

		// --all with filters, and the question before resolving.
		out = expect(0, "1 of 1 changed", "severity", "--all", "--q", "disk a", "sev3")
		if !strings.Contains(out, "#1 severity sev2 → sev3") {
			t.Fatalf("severity --all: %q", out)
		}
		expect(2, "pass --yes", "resolve", "--integration", "test", "--all")
		code, out, errOut := runc("n\n", true, "resolve", "--integration", "test", "--all")
		if code != 1 || !strings.Contains(errOut, "resolve 3 incidents? y/N") || !strings.Contains(errOut, "nothing resolved") || out != "" {
			t.Fatalf("resolve --all, answered n: %d %q %q", code, out, errOut)
		}
		code, out, errOut = runc("y\n", true, "resolve", "--severity", "sev3", "--all")
		if code != 0 || !strings.Contains(errOut, "resolve 1 incident? y/N") || !strings.Contains(out, "#1 resolved: disk a") || !strings.Contains(out, "1 of 1 changed") {
			t.Fatalf("resolve --all, answered y: %d %q %q", code, out, errOut)
		}
		out = expect(0, "2 of 2 changed", "resolve", "--integration", "test", "--all", "--yes")
		if !strings.Contains(out, "#2 resolved") || !strings.Contains(out, "#3 resolved") {
			t.Fatalf("resolve --all --yes: %q", out)
		}
		expect(0, "no open incidents match; nothing changed", "ack", "--all")
		expect(1, "#1 already resolved: disk a", "resolve", "1")
		expect(1, "#1 is resolved, and a resolved incident cannot change", "ack", "1")
		expect(1, `there is no integration named "nosuch"`, "resolve", "--integration", "nosuch", "--all", "--yes")
	})
}

// webhookURL is the webhook URL of the integration called name.
func webhookURL(t *testing.T, common []string, name string) string {
	t.Helper()
	code, out, errOut := run(t, append([]string{"integrations", "show", name}, common...)...)
	if code != 0 {
		t.Fatalf("integrations show %s: %d %q", name, code, errOut)
	}
	return urlRE.FindString(out)
}

// deliver sends one webhook event to url, a webhook URL of the klaxon at
// addr, and returns the status and answer. With no klaxon at addr it serves
// the data directory dir for that one request, at another address.
func deliver(t *testing.T, addr, dir, url, title string, flags ...string) (int, string) {
	t.Helper()
	if !addrServing(addr) {
		ctx, cancel := context.WithCancel(context.Background())
		app, err := OpenApp(ctx, Config{Listen: "127.0.0.1:0", DataDir: dir}, &syncBuffer{})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- app.Run(ctx) }()
		defer func() {
			cancel()
			<-done
			app.Close()
		}()
		url = app.BaseURL + strings.TrimPrefix(url, "http://"+addr)
	}
	var out, errb syncBuffer
	Run(context.Background(), append([]string{"send", url, "--title", title}, flags...), Env{Stdout: &out, Stderr: &errb})
	status, _ := strconv.Atoi(strings.SplitN(out.String(), " ", 2)[0])
	return status, out.String()
}

// addrServing reports whether a klaxon answers at addr.
func addrServing(addr string) bool {
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// Removing an integration keeps its incidents under its name and makes its
// token answer 404 saying so; rotating gives it a new token, the old one
// working for --grace; names are what a command line and a URL can hold.
func TestIntegrationsRemoveAndRotate(t *testing.T) {
	bothBackends(t, func(t *testing.T, addr, dir string) {
		common := []string{"--listen", addr, "--data-dir", dir}
		cmd := func(args ...string) (int, string, string) {
			t.Helper()
			return run(t, append(args, common...)...)
		}
		if code, out, errOut := cmd("integrations", "add", "my integration"); code != 1 || !strings.Contains(errOut, "no spaces") || !strings.Contains(errOut, `try "my-integration"`) {
			t.Fatalf("a name with a space: %d %q %q", code, out, errOut)
		}
		if code, _, errOut := cmd("integrations", "add", "alertmanager/prod-1.eu_west"); code != 0 {
			t.Fatalf("a name with / . _ -: %d %q", code, errOut)
		}
		cmd("integrations", "add", "test")
		oldURL := webhookURL(t, common, "test")
		if code, out := deliver(t, addr, dir, oldURL, "disk full"); code != 200 {
			t.Fatalf("send: %d %q", code, out)
		}
		code, out, errOut := cmd("integrations", "remove", "test")
		if code != 0 || !strings.Contains(out, "integration test removed") || !strings.Contains(out, "1 is open (klaxon resolve --integration test --all") {
			t.Fatalf("remove: %d %q %q", code, out, errOut)
		}
		if _, out, _ := cmd("integrations"); strings.Contains(out, "test") {
			t.Fatalf("a removed integration is listed: %q", out)
		}
		if _, out, _ := cmd("incidents"); !strings.Contains(out, "test") || !strings.Contains(out, "disk full") {
			t.Fatalf("its incident is gone, or has lost its name: %q", out)
		}
		if code, out := deliver(t, addr, dir, oldURL, "again"); code != 404 || !strings.Contains(out, "this integration was removed") {
			t.Fatalf("the removed token: %d %q", code, out)
		}
		if code, _, errOut := cmd("integrations", "remove", "test"); code != 1 || !strings.Contains(errOut, `no integration named "test"`) {
			t.Fatalf("remove twice: %d %q", code, errOut)
		}
		// The name again brings it back, with a new token; the old one stays refused.
		cmd("integrations", "add", "test")
		newURL := webhookURL(t, common, "test")
		if code, out := deliver(t, addr, dir, newURL, "disk full"); code != 200 || !strings.Contains(out, `"suppressed"`) {
			t.Fatalf("the integration brought back does not fold into its open incident: %d %q", code, out)
		}
		if code, out := deliver(t, addr, dir, oldURL, "again"); code != 404 || !strings.Contains(out, "replaced") {
			t.Fatalf("the old token after the name came back: %d %q", code, out)
		}

		code, out, errOut = cmd("integrations", "rotate", "test", "--grace", "1h")
		if code != 0 || !strings.Contains(out, "has a new token") || !strings.Contains(out, "keeps working until") {
			t.Fatalf("rotate --grace: %d %q %q", code, out, errOut)
		}
		rotatedURL := urlRE.FindString(out)
		if rotatedURL == newURL || rotatedURL != webhookURL(t, common, "test") {
			t.Fatalf("rotate printed %q; show says %q (before: %q)", rotatedURL, webhookURL(t, common, "test"), newURL)
		}
		if code, out := deliver(t, addr, dir, newURL, "during the grace"); code != 200 {
			t.Fatalf("the old token during its grace: %d %q", code, out)
		}
		code, out, _ = cmd("integrations", "rotate", "test")
		if code != 0 || !strings.Contains(out, "answers 404 from now on") {
			t.Fatalf("rotate: %d %q", code, out)
		}
		for _, u := range []string{newURL, rotatedURL} {
			if code, out := deliver(t, addr, dir, u, "after"); code != 404 || !strings.Contains(out, "replaced") {
				t.Fatalf("a rotated-out token: %d %q", code, out)
			}
		}
		if code, out := deliver(t, addr, dir, webhookURL(t, common, "test"), "after"); code != 200 {
			t.Fatalf("the new token: %d %q", code, out)
		}
	})

	code, _, errOut := run(t, "integrations", "--help")
	for _, sub := range integrationsCommands {
		if code != 0 || !regexp.MustCompile(`(?m)^  `+sub+` `).MatchString(errOut) {
			t.Errorf("integrations --help does not list %s: %q", sub, errOut)
		}
	}
}

// integrations --json is indented like incidents --json.
func TestIntegrationsJSONIsIndented(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	makeDataDir(t, addr, dir)
	code, out, _ := run(t, "integrations", "--json", "--listen", addr, "--data-dir", dir)
	var v struct{ Integrations []map[string]any }
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || len(v.Integrations) != 1 || !strings.HasPrefix(out, "{\n  \"integrations\": [\n    {\n") {
		t.Fatalf("integrations --json: %d %q", code, out)
	}
}

// The completion scripts parse in their shells, and the helper they call
// lists commands, flags, values, integration names and open incident IDs.
func TestCompletion(t *testing.T) {
	for _, shell := range []struct{ name, check string }{{"bash", "-n"}, {"zsh", "-n"}, {"fish", "--no-execute"}} {
		code, script, errOut := run(t, "completion", shell.name)
		if code != 0 || !strings.Contains(script, "__complete") {
			t.Fatalf("completion %s: %d %q", shell.name, code, errOut)
		}
		path, err := exec.LookPath(shell.name)
		if err != nil {
			if shell.name == "bash" {
				t.Fatalf("bash is not installed: %v", err)
			}
			t.Logf("%s is not installed; its script is not checked", shell.name)
			continue
		}
		f := filepath.Join(t.TempDir(), "klaxon."+shell.name)
		os.WriteFile(f, []byte(script), 0o600)
		if out, err := exec.Command(path, shell.check, f).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", shell.name, shell.check, err, out)
		}
	}

	addr, dir := freeAddr(t), t.TempDir()
	startServe(t, addr, dir)
	common := []string{"--listen", addr, "--data-dir", dir}
	run(t, append([]string{"integrations", "add", "prom"}, common...)...)
	url := webhookURL(t, common, "prom")
	deliver(t, addr, dir, url, "one")
	deliver(t, addr, dir, url, "two")
	run(t, append([]string{"resolve", "1"}, common...)...)

	complete := func(words ...string) []string {
		t.Helper()
		code, out, errOut := run(t, append([]string{"__complete"}, words...)...)
		if code != 0 || errOut != "" {
			t.Fatalf("__complete %q: %d %q", words, code, errOut)
		}
		return strings.Fields(out)
	}
	with := func(words ...string) []string { // the typed words, --listen and --data-dir first
		return append(append([]string{}, common...), words...)
	}
	for _, tc := range []struct {
		words []string
		want  []string
		not   []string
	}{
		{[]string{""}, []string{"incidents", "integrations", "ack", "unack", "severity", "priority", "completion"}, []string{"__complete"}},
		{[]string{"in"}, []string{"incidents", "integrations"}, []string{"ack"}},
		{[]string{"integrations", ""}, []string{"list", "add", "show", "set", "remove", "rotate"}, nil},
		{with("integrations", "show", ""), []string{"default", "prom"}, nil},
		{with("integrations", "rotate", "p"), []string{"prom"}, []string{"default"}},
		{with("ack", ""), []string{"2"}, []string{"1"}},
		{with("severity", "2", ""), []string{"2", "sev1", "none"}, nil},
		{with("incidents", "--integration", ""), []string{"default", "prom"}, nil},
		{[]string{"incidents", "--st"}, []string{"--status"}, nil},
		{[]string{"incidents", "--status", ""}, []string{"open", "resolved", "all"}, nil},
		{[]string{"incidents", "--status", "=", "tr"}, []string{"triggered"}, []string{"open"}},
		{[]string{"incidents", "--status=a"}, []string{"--status=acknowledged", "--status=all"}, nil},
		{[]string{"integrations", "add", "x", "--kind", ""}, []string{"webhook", "alertmanager"}, nil},
		{[]string{"resolve", "--"}, []string{"--all", "--yes", "--integration"}, nil},
		{[]string{"--data-dir", ""}, []string{":files"}, nil},
		{[]string{"completion", ""}, []string{"bash", "zsh", "fish"}, nil},
	} {
		got := complete(tc.words...)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("__complete %q = %q, lacks %q", tc.words, got, w)
			}
		}
		for _, w := range tc.not {
			if slices.Contains(got, w) {
				t.Errorf("__complete %q = %q, has %q", tc.words, got, w)
			}
		}
	}

	// The bash script, run as bash runs it on a tab.
	if _, err := exec.LookPath("go"); err == nil {
		exe := filepath.Join(t.TempDir(), "klaxon")
		if out, err := exec.Command("go", "build", "-o", exe, "klaxon").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		_, script, _ := run(t, "completion", "bash")
		f := filepath.Join(t.TempDir(), "klaxon.bash")
		os.WriteFile(f, []byte(script), 0o600)
		sh := `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _klaxon; echo "${COMPREPLY[*]}"`
		out, err := exec.Command("bash", append([]string{"-c", sh, "bash", f, exe}, with("integrations", "show", "")...)...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "default prom") {
			t.Fatalf("bash completion of integrations show: %v %q", err, out)
		}
	}
}
