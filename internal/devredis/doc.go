// Package devredis runs the Redis that `eventsd dev` uses when no REDIS_URL
// names one, keeping the queue's state in a directory so that it survives a
// restart and a kill -9.
//
// Two ways, one chosen at start:
//
//   - Server runs redis-server (when it is installed) as a child process on
//     a loopback port, with its append-only file in the directory, fsynced
//     every second. The child is stopped with eventsd; on Linux the kernel
//     stops it too when eventsd is killed, and elsewhere the next start stops
//     a child left behind, found by the pid file it leaves in the directory.
//     A kill -9 of eventsd loses nothing Redis acknowledged; a crash of the
//     machine loses at most about the last second.
//   - Memory runs an in-process Redis-protocol server (miniredis) and saves
//     its whole state to a snapshot file every second and at stop, replacing
//     the file atomically (write a temporary file, fsync, rename), and loads
//     it at start. A kill -9 of eventsd loses at most the last second.
package devredis
