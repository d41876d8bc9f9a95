package duckdb

import "database/sql"

// DB exposes the connection to the benchmarks, which time hand-written SQL beside the
// product's queries.
func (s *Store) DB() *sql.DB { return s.db }
