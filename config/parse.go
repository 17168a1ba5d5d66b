package config

import (
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

func parseFile(b []byte) (*ast.File, error) { return parser.ParseBytes(b, 0) }
