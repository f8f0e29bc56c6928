//go:build !linux

package sshconsole

import (
	"errors"
	"os"
	"syscall"
)

func openPTY() (master, tty *os.File, err error) {
	return nil, nil, errors.New("the OpenSSH test opens a pseudo-terminal on Linux only")
}

func sessionLeader() *syscall.SysProcAttr { return nil }
