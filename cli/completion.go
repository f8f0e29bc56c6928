package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"klaxon/incidents"
)

// Shell completion: `klaxon completion bash|zsh|fish` prints a small script
// that asks `klaxon __complete WORD…` (the words typed after klaxon, the
// last one being completed) what may come next: commands, flags, flag
// values, integration names, open incident IDs. All the knowledge is here;
// the scripts only pass the words along.

const bashCompletion = `# klaxon completion for bash. Load it with:
#   source <(klaxon completion bash)
# or write it to ~/.local/share/bash-completion/completions/klaxon.
_klaxon() {
	local cur=${COMP_WORDS[COMP_CWORD]} IFS=$'\n'
	local out
	out=$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
	if [[ $out == ":files" ]]; then
		compopt -o default 2>/dev/null
		COMPREPLY=()
		return
	fi
	[[ $cur == "=" ]] && cur=
	COMPREPLY=($(compgen -W "$out" -- "$cur"))
}
complete -F _klaxon klaxon
`

const zshCompletion = `#compdef klaxon
# klaxon completion for zsh. Load it with:
#   source <(klaxon completion zsh)
# (after compinit), or write it as _klaxon into a directory of your $fpath.
_klaxon() {
	local -a out
	out=(${(f)"$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)"})
	if [[ ${out[1]} == ":files" ]]; then
		_files
		return
	fi
	compadd -- "${out[@]}"
}
compdef _klaxon klaxon
`

const fishCompletion = `# klaxon completion for fish. Load it with:
#   klaxon completion fish | source
# or write it to ~/.config/fish/completions/klaxon.fish.
function __klaxon_complete
	set -l words (commandline -opc)
	set -l cmd $words[1]
	set -e words[1]
	set -l out ($cmd __complete $words (commandline -ct) 2>/dev/null)
	if test "$out" = ":files"
		__fish_complete_path (commandline -ct)
	else
		printf '%s\n' $out
	end
end
complete -c klaxon -f -a '(__klaxon_complete)'
`

// runCompletion prints the completion script for a shell.
func runCompletion(args []string, e Env) error {
	fs := newFlagSet("klaxon completion", "klaxon completion bash|zsh|fish",
		"Prints a script that completes klaxon's commands, flags, integration names and open incident IDs:\n"+
			"  source <(klaxon completion bash)        (bash; or zsh, after compinit)\n"+
			"  klaxon completion fish | source         (fish)\n"+
			"The names and IDs come from the klaxon at --listen, or the data directory (KLAXON_LISTEN, KLAXON_DATA_DIR).", e.Stderr)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(fs, "completion takes one shell: bash, zsh or fish")
	}
	script, ok := map[string]string{"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion}[pos[0]]
	if !ok {
		return usageError(fs, "no completion for %q%s; bash, zsh or fish", pos[0], didYouMean(pos[0], []string{"bash", "zsh", "fish"}))
	}
	_, err = io.WriteString(e.Stdout, script)
	return err
}

// runComplete prints, one a line, what may stand in the last of words (the
// words after klaxon): ":files" alone asks the shell for file names. It
// never prints an error: a completion that cannot ask klaxon offers less.
func runComplete(ctx context.Context, words []string, e Env) {
	for _, c := range completions(ctx, words) {
		if c == ":files" || strings.HasPrefix(c, words[len(words)-1]) {
			fmt.Fprintln(e.Stdout, c)
		}
	}
}

// flagValues are the values of flags that take a fixed few.
var flagValues = map[string][]string{
	"status":   {"open", "triggered", "acknowledged", "resolved", "all"},
	"severity": {"sev1", "sev2", "sev3", "none"},
	"priority": {"p1", "p2", "p3", "p4", "p5", "none"},
	"format":   {"table", "json", "ndjson", "csv"},
	"kind":     strings.Split(kindNames, "|"),
	"chaos":    {"off", "status=503,share=0.3", "delay=2s"},
}

// fileFlags take a file or a directory.
var fileFlags = map[string]bool{"data-dir": true, "tls-cert": true, "tls-key": true, "log-file": true,
	"authorized-keys": true, "dir": true, "profile": true, "cpuprofile": true, "memprofile": true, "trace": true}

func completions(ctx context.Context, words []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, prev := words[len(words)-1], words[:len(words)-1]
	// bash splits --flag=value at '=': "--status" "=" "op".
	if len(prev) > 0 && prev[len(prev)-1] == "=" {
		prev = prev[:len(prev)-1]
	} else if name, _, ok := strings.Cut(cur, "="); ok && strings.HasPrefix(name, "-") {
		var out []string
		for _, v := range valuesOf(ctx, strings.TrimLeft(name, "-"), prev) {
			out = append(out, name+"="+v)
		}
		return out
	}
	if len(prev) > 0 && strings.HasPrefix(prev[len(prev)-1], "-") && !strings.Contains(prev[len(prev)-1], "=") {
		if name := strings.TrimLeft(prev[len(prev)-1], "-"); takesValue(commandOf(prev), name) {
			return valuesOf(ctx, name, prev)
		}
	}
	cmd := commandOf(prev)
	if strings.HasPrefix(cur, "-") {
		return flagsOf(cmd)
	}
	args := positional(cmd, prev)
	switch {
	case len(cmd) == 0:
		return commandNames
	case cmd[0] == "integrations" && len(cmd) == 1 && len(args) == 0:
		return integrationsCommands
	case cmd[0] == "integrations" && len(cmd) == 2 && len(args) == 0 && cmd[1] != "add" && cmd[1] != "list":
		return integrationNames(ctx, prev)
	case cmd[0] == "completion" && len(args) == 0:
		return []string{"bash", "zsh", "fish"}
	case cmd[0] == "ack" || cmd[0] == "acknowledge" || cmd[0] == "unack" || cmd[0] == "unacknowledge" || cmd[0] == "resolve":
		return openIncidentIDs(ctx, prev)
	case cmd[0] == "severity":
		return append(openIncidentIDs(ctx, prev), flagValues["severity"]...)
	case cmd[0] == "priority":
		return append(openIncidentIDs(ctx, prev), flagValues["priority"]...)
	}
	return nil
}

// commandOf is the command in words: ["incidents"], ["integrations", "add"],
// or none.
func commandOf(words []string) []string {
	var cmd []string
	for i, w := range words {
		if strings.HasPrefix(w, "-") || w == "=" {
			continue
		}
		if i > 0 && strings.HasPrefix(words[i-1], "-") && !strings.Contains(words[i-1], "=") && takesValue(cmd, strings.TrimLeft(words[i-1], "-")) {
			continue // a flag's value
		}
		cmd = append(cmd, w)
		if len(cmd) == 1 && cmd[0] != "integrations" || len(cmd) == 2 {
			break
		}
	}
	if len(cmd) == 2 && !slices.Contains(integrationsCommands, cmd[1]) {
		cmd = cmd[:1] // integrations' positional, not a command
	}
	return cmd
}

// positional is what of words is neither the command, a flag nor a flag's value.
func positional(cmd, words []string) []string {
	var out []string
	skip := len(cmd)
	for i, w := range words {
		if strings.HasPrefix(w, "-") || w == "=" {
			continue
		}
		if i > 0 && strings.HasPrefix(words[i-1], "-") && !strings.Contains(words[i-1], "=") && takesValue(cmd, strings.TrimLeft(words[i-1], "-")) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		out = append(out, w)
	}
	return out
}

// flagLine matches a flag in PrintDefaults' output: "  -name" or "  -name TYPE".
var flagLine = regexp.MustCompile(`(?m)^  -([a-z][a-z0-9-]*)( \S+)?$`)

// helpFlags reads the flags of cmd from its --help: name → whether it takes a value.
func helpFlags(cmd []string) map[string]bool {
	if len(cmd) > 0 && (cmd[0] == "help" || cmd[0] == "__complete") {
		return nil
	}
	var out bytes.Buffer
	args := append(append([]string{}, cmd...), "--help")
	if len(cmd) == 0 {
		args = []string{"--help"}
	}
	Run(context.Background(), args, Env{Stdout: &out, Stderr: &out})
	flags := map[string]bool{}
	for _, m := range flagLine.FindAllStringSubmatch(out.String(), -1) {
		flags[m[1]] = m[2] != ""
	}
	return flags
}

// flagsOf lists cmd's flags as --name.
func flagsOf(cmd []string) []string {
	var out []string
	for name := range helpFlags(cmd) {
		out = append(out, "--"+name)
	}
	slices.Sort(out)
	return out
}

func takesValue(cmd []string, name string) bool {
	return helpFlags(cmd)[name]
}

// valuesOf is what flag name may be set to.
func valuesOf(ctx context.Context, name string, words []string) []string {
	switch {
	case name == "integration":
		return integrationNames(ctx, words)
	case fileFlags[name]:
		return []string{":files"}
	}
	return flagValues[name]
}

// completionConfig is the Config the words typed so far name: --listen,
// --data-dir and --tls-cert, else their KLAXON_* variables and defaults.
func completionConfig(words []string) Config {
	var c Config
	fs := flag.NewFlagSet("complete", flag.ContinueOnError)
	commonFlags(fs, &c)
	_ = applyEnv(fs)
	for i, w := range words {
		name, value, ok := strings.Cut(strings.TrimLeft(w, "-"), "=")
		if !strings.HasPrefix(w, "-") || fs.Lookup(name) == nil {
			continue
		}
		if !ok && i+1 < len(words) {
			value = words[i+1]
		}
		_ = fs.Set(name, value)
	}
	return c
}

// completionTimeout bounds how long a tab press waits for klaxon.
const completionTimeout = 2 * time.Second

// integrationNames lists the integrations' names.
func integrationNames(ctx context.Context, words []string) []string {
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	var names []string
	_ = withBackend(ctx, completionConfig(words), func(b backend) error {
		list, err := b.Integrations(ctx)
		names = names[:0]
		for _, in := range list {
			names = append(names, in.Name)
		}
		return err
	})
	return names
}

// openIncidentIDs lists the open incidents' IDs, worst first (at most 200).
func openIncidentIDs(ctx context.Context, words []string) []string {
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	var ids []string
	_ = withBackend(ctx, completionConfig(words), func(b backend) error {
		list, err := listAll(ctx, b, incidents.Filter{Status: "open"}, 200)
		ids = ids[:0]
		for _, in := range list {
			ids = append(ids, strconv.FormatInt(in.ID, 10))
		}
		return err
	})
	return ids
}
