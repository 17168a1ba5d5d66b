//go:build race

package web

// slowdown stretches the browser tests' time bounds under the race
// detector, which makes the server several times slower (bcrypt at
// sign-in most of all) while the rest of the race run loads the machine.
const slowdown = 4
