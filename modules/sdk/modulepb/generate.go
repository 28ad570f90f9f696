// Package modulepb is the generated gRPC code of module.proto, the wire
// contract between the module host and its modules. Go module authors use
// the typed API of the parent package (modules/sdk) instead.
//
// Regenerate after editing module.proto (protoc 3.21+, protoc-gen-go
// v1.36.12, protoc-gen-go-grpc v1.6+ on PATH):
//
//	apt-get install -y protobuf-compiler
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
//	go generate ./modules/sdk/modulepb
//
// The generated files are committed: building Cairn needs no protoc.
package modulepb

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative module.proto
