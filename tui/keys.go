package tui

import "github.com/charmbracelet/bubbles/key"

// KeyMap is every key the console answers to. Help is generated from it.
type KeyMap struct {
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Home     key.Binding
	End      key.Binding

	Detail key.Binding
	Back   key.Binding

	Acknowledge    key.Binding
	Unacknowledge  key.Binding
	Resolve        key.Binding
	Severity       key.Binding
	SeverityBack   key.Binding
	Priority       key.Binding
	PriorityBack   key.Binding
	Mark           key.Binding
	Replay         key.Binding // enabled only when Options.Replay is set
	Outcome        key.Binding // Requests: all, refused only, accepted only
	Filter         key.Binding
	FilterApply    key.Binding
	FilterCancel   key.Binding
	NextView       key.Binding
	PrevView       key.Binding
	ViewOpen       key.Binding
	ViewSuppressed key.Binding
	ViewResolved   key.Binding
	ViewRequests   key.Binding
	// Views only documents 1–4 in the help; the four above do the work.
	Views key.Binding
	// Integrations opens the integrations page; Setup (enter there) shows
	// the selected one's setup block.
	Integrations key.Binding
	Setup        key.Binding

	Help key.Binding
	Quit key.Binding
}

// DefaultKeyMap is the console's key map.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		Home:     key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home/g", "first")),
		End:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "last")),

		Detail: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "detail")),
		Back:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),

		Acknowledge:   key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "ack")),
		Unacknowledge: key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "unack")),
		Resolve:       key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "resolve")),
		Severity:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s/S", "severity ±")),
		SeverityBack:  key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "severity back")),
		Priority:      key.NewBinding(key.WithKeys("p"), key.WithHelp("p/P", "priority ±")),
		PriorityBack:  key.NewBinding(key.WithKeys("P"), key.WithHelp("P", "priority back")),
		Mark:          key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "mark")),
		Replay:        key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "replay")),
		Filter:        key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Outcome:       key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "refused/accepted")),
		FilterApply:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter")),
		FilterCancel:  key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),

		NextView:       key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next view")),
		PrevView:       key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous view")),
		ViewOpen:       key.NewBinding(key.WithKeys("1")),
		ViewSuppressed: key.NewBinding(key.WithKeys("2")),
		ViewResolved:   key.NewBinding(key.WithKeys("3")),
		ViewRequests:   key.NewBinding(key.WithKeys("4")),
		Views:          key.NewBinding(key.WithKeys("1", "2", "3", "4"), key.WithHelp("1-4", "views")),
		Integrations:   key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "integrations")),
		Setup:          key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "setup")),

		Help: key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit: key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// helpKeys is the help for one situation of the console; it implements
// help.KeyMap.
type helpKeys struct {
	short []key.Binding
	full  [][]key.Binding
}

func (h helpKeys) ShortHelp() []key.Binding  { return h.short }
func (h helpKeys) FullHelp() [][]key.Binding { return h.full }

func (k KeyMap) incidentListHelp() helpKeys {
	return helpKeys{
		short: []key.Binding{k.Up, k.Down, k.Detail, k.Acknowledge, k.Resolve, k.Mark, k.Filter, k.NextView, k.Help, k.Quit},
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
			{k.Detail, k.Back, k.Filter, k.Mark},
			{k.Acknowledge, k.Unacknowledge, k.Resolve, k.Severity, k.Priority},
			{k.NextView, k.PrevView, k.Views, k.Integrations, k.Help, k.Quit},
		},
	}
}

func (k KeyMap) journalHelp() helpKeys {
	return helpKeys{
		short: []key.Binding{k.Up, k.Down, k.Detail, k.NextView, k.Views, k.Help, k.Quit},
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
			{k.Detail, k.Back},
			{k.NextView, k.PrevView, k.Views, k.Integrations, k.Help, k.Quit},
		},
	}
}

func (k KeyMap) requestsHelp() helpKeys {
	return helpKeys{
		short: []key.Binding{k.Up, k.Down, k.Detail, k.Replay, k.Filter, k.Outcome, k.NextView, k.Views, k.Help, k.Quit},
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
			{k.Detail, k.Back, k.Replay, k.Filter, k.Outcome},
			{k.NextView, k.PrevView, k.Views, k.Integrations, k.Help, k.Quit},
		},
	}
}

func (k KeyMap) incidentDetailHelp() helpKeys {
	return helpKeys{
		short: []key.Binding{k.Back, k.Up, k.Down, k.Acknowledge, k.Unacknowledge, k.Resolve, k.Severity, k.Priority, k.Help, k.Quit},
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
			{k.Acknowledge, k.Unacknowledge, k.Resolve, k.Severity, k.Priority},
			{k.Back, k.NextView, k.Views, k.Integrations, k.Help, k.Quit},
		},
	}
}

func (k KeyMap) requestDetailHelp() helpKeys {
	return helpKeys{
		short: []key.Binding{k.Back, k.Up, k.Down, k.PageUp, k.PageDown, k.Replay, k.Help, k.Quit},
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
			{k.Replay},
			{k.Back, k.NextView, k.Views, k.Integrations, k.Help, k.Quit},
		},
	}
}

func (k KeyMap) integrationsHelp() helpKeys {
	return helpKeys{
		short: []key.Binding{k.Up, k.Down, k.Setup, k.Back, k.Views, k.Help, k.Quit},
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
			{k.Setup, k.Back},
			{k.NextView, k.PrevView, k.Views, k.Help, k.Quit},
		},
	}
}

func (k KeyMap) setupHelp() helpKeys {
	return helpKeys{
		short: []key.Binding{k.Back, k.Up, k.Down, k.PageUp, k.PageDown, k.Help, k.Quit},
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
			{k.Back, k.NextView, k.Views, k.Help, k.Quit},
		},
	}
}

func (k KeyMap) filterHelp() helpKeys {
	return helpKeys{
		short: []key.Binding{k.FilterApply, k.FilterCancel},
		full:  [][]key.Binding{{k.FilterApply, k.FilterCancel}},
	}
}
