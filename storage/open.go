package storage

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"klaxon/incidents"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// What Open finds wrong with a database file, said so that the person who
// started klaxon knows what to do. Only a file that really is not a klaxon
// database is called one: a full disk, a damaged file and a file klaxon may
// not open each say so instead.

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// checkHeader refuses a file that is not an SQLite database at all. It reads
// the header itself: on a full disk SQLite answers I/O errors before it has
// read a byte, and those say nothing about what the file is.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return nil // missing (a new database), or SQLite will say why it cannot open it
	}
	defer f.Close()
	var b [len(sqliteMagic)]byte
	n, _ := io.ReadFull(f, b[:])
	if n == 0 || string(b[:n]) == sqliteMagic {
		return nil // empty: a new database
	}
	return fmt.Errorf("%s is not a klaxon database (it is not an SQLite database at all); klaxon will not change it: move it away or choose another --data-dir", path)
}

// openError says why the database at path could not be opened, checked or
// brought up to date.
func openError(path string, err error) error {
	var ie *incidents.Error
	var inUse *InUseError
	if errors.As(err, &inUse) || errors.As(err, &ie) {
		return err
	}
	dir := filepath.Dir(path)
	var se *sqlite.Error
	if !errors.As(err, &se) {
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			if full := diskFull(dir); full != "" {
				return errors.New(full)
			}
			return fmt.Errorf("the disk holding %s is full (%v): klaxon cannot open its database until there is room; free some space and try again", dir, err)
		}
		return fmt.Errorf("open %s: %w", path, err)
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_NOTADB:
		return fmt.Errorf("%s is not a klaxon database (%v); klaxon will not change it: move it away or choose another --data-dir", path, se)
	case sqlite3.SQLITE_CORRUPT:
		return damagedFile(path, []string{se.Error()})
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("%s is locked by another program (%v); stop it, or choose another --data-dir", path, se)
	}
	// The rest may all come of a full disk: SQLite cannot size its WAL
	// index (an I/O error), cannot make its WAL (cannot open), or cannot
	// grow the file (full).
	if full := diskFull(dir); full != "" {
		return errors.New(full)
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		return fmt.Errorf("the disk holding %s is full: klaxon cannot open %s until there is room; free some space and try again", dir, filepath.Base(path))
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH, sqlite3.SQLITE_CANTOPEN:
		return fmt.Errorf("klaxon cannot open %s (%v); check that the file and %s are this user's and writable, and that the disk is not mounted read-only", path, se, dir)
	case sqlite3.SQLITE_IOERR:
		return fmt.Errorf("klaxon cannot read or write %s (%v): the disk failed an operation; check the system log (dmesg) and the disk, then start it again", path, se)
	}
	return fmt.Errorf("open %s: %w", path, err)
}

// minFree is the room below which a failed open is put down to a full disk:
// SQLite needs 32 KiB for the WAL index and a few pages for the WAL.
const minFree = 1 << 20

// diskFull says how the disk holding dir is full ("" when it is not).
func diskFull(dir string) string {
	var st syscall.Statfs_t
	if syscall.Statfs(dir, &st) != nil {
		return ""
	}
	free := st.Bavail * uint64(st.Bsize)
	switch {
	case free < minFree:
		return fmt.Sprintf("the disk holding %s is full (%s free): klaxon cannot open its database until there is room; free some space and try again", dir, byteSize(free))
	case st.Files > 0 && st.Ffree == 0:
		return fmt.Sprintf("the disk holding %s has no free inodes: klaxon cannot open its database until some files are removed; remove some and try again", dir)
	}
	return ""
}

func byteSize(n uint64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// damagedFile is the refusal of a database that fails its check: what is
// wrong (the first few complaints) and how to recover what it holds.
// Debian 12's sqlite3 (3.40.1, built without the sqlite_dbpage table) has a
// .recover that fails at once; .dump, told to commit what it could read,
// recovered 93,752 of 103,892 incidents from a file with eight pages
// overwritten.
func damagedFile(path string, problems []string) error {
	shown := problems
	if len(shown) > 3 {
		shown = shown[:3]
	}
	what := strings.Join(shown, "; ")
	if more := len(problems) - len(shown); more > 0 {
		what += fmt.Sprintf("; and %d more", more)
	}
	return fmt.Errorf("%s is damaged (%s); klaxon will not write to a damaged database. "+
		"Stop every klaxon using it and recover what it holds into a new file: `sqlite3 %s .recover | sqlite3 %s.recovered` "+
		"(with a sqlite3 whose .recover fails, such as Debian 12's: `sqlite3 %s .dump | sed 's/^ROLLBACK; -- due to errors$/COMMIT;/' | sqlite3 %s.recovered`); "+
		"then move %s and its -wal and -shm files away and put %s.recovered in its place, or restore a backup, and start klaxon again",
		path, what, path, path, path, path, path, path)
}

// damagedMessage is what a sender and the console are told once the
// database shows damage while klaxon runs.
const damagedMessage = "klaxon's database is damaged (%v); it took nothing and will take nothing until its operator repairs it " +
	"(klaxon names the file and what to do when it next starts); send again later"

// corrupt reports whether err is SQLite finding the file damaged.
func corrupt(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff
	return code == sqlite3.SQLITE_CORRUPT || code == sqlite3.SQLITE_NOTADB
}

// quickCheckBudget bounds the check at start (a variable for tests). On the
// development machine quick_check read a database of 103,892 incidents
// (62 MiB) in 0.4 s; past the budget klaxon starts without the rest of the
// check rather than keep a receiver down.
var quickCheckBudget = 30 * time.Second

// quickCheck runs PRAGMA quick_check (the b-trees, pages and records, not the
// indexes' agreement with their tables) for at most quickCheckBudget. It
// returns the damage found, and whether the check ran to its end.
func quickCheck(ctx context.Context, w *sql.DB) (problems []string, complete bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, quickCheckBudget)
	defer cancel()
	rows, err := w.QueryContext(ctx, "PRAGMA quick_check(10)")
	if err == nil {
		defer rows.Close()
		for rows.Next() {
			var s string
			if err = rows.Scan(&s); err != nil {
				break
			}
			for _, line := range strings.Split(s, "\n") {
				if line != "ok" && line != "" && !strings.HasPrefix(line, "***") { // *** in database main ***
					problems = append(problems, line)
				}
			}
		}
		if err == nil {
			err = rows.Err()
		}
	}
	switch {
	case err == nil:
		return problems, true, nil
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && len(problems) == 0:
		return nil, false, nil
	case corrupt(err):
		return append(problems, err.Error()), true, nil // too damaged to check
	}
	return problems, false, err
}

// uniqueViolation reports whether err is a UNIQUE constraint refusing a row.
func uniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// InUseError says another process writes the database.
type InUseError struct {
	Path string
	PID  int // 0 when unknown
}

func (e *InUseError) Error() string {
	pid := "unknown"
	if e.PID > 0 {
		pid = strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("%s is in use by another klaxon (pid %s)", e.Path, pid)
}

// lockFile opens the database file (creating it 0600 when missing) and takes
// an exclusive flock(2) on it, held while the DB is open, so that two
// processes never write one database, even when the data directory's lock
// file was deleted or the file is reached by another path. SQLite's own
// locks are fcntl(2) locks, which on Linux do not conflict with flock(2).
// The descriptor must stay open until SQLite has closed the file: closing
// any descriptor of a file drops the process's fcntl locks on it.
func lockFile(path string) (f *os.File, created bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		created = true
	} else if errors.Is(err, fs.ErrExist) {
		if f, err = os.OpenFile(path, os.O_RDWR, 0); err != nil {
			f, err = os.Open(path) // a read-only file: SQLite opens it read-only and writes answer 503
		}
	}
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if created {
			os.Remove(path)
		}
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, &InUseError{Path: path, PID: flockHolder(path)}
		}
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, created, nil
}

// flockHolder finds the pid holding an exclusive flock on path in
// /proc/locks (0 when it cannot tell).
func flockHolder(path string) int {
	var st syscall.Stat_t
	if syscall.Stat(path, &st) != nil {
		return 0
	}
	dev := uint64(st.Dev)
	major := (dev>>8)&0xfff | (dev>>32)&^0xfff
	minor := dev&0xff | (dev>>12)&^0xff
	want := fmt.Sprintf("%02x:%02x:%d", major, minor, st.Ino)
	f, err := os.Open("/proc/locks")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[1] != "FLOCK" || fields[3] != "WRITE" || fields[5] != want {
			continue
		}
		if pid, err := strconv.Atoi(fields[4]); err == nil && pid != os.Getpid() {
			return pid
		}
	}
	return 0
}

// privateFiles makes the database file and its -wal and -shm 0600 when they
// are open to others (SQLite makes the -wal and -shm with the database's
// mode, so a new database's are 0600 already).
func privateFiles(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if st, err := os.Stat(p); err == nil && st.Mode().Perm()&0o077 != 0 {
			_ = os.Chmod(p, st.Mode().Perm()&0o700)
		}
	}
}

// removeNew removes a database file Open made and could not finish, with
// the -wal and -shm SQLite made beside it: a failed first start leaves no
// empty klaxon.db behind.
func removeNew(path string) {
	for _, p := range []string{path + "-wal", path + "-shm", path + "-journal", path} {
		_ = os.Remove(p)
	}
}
