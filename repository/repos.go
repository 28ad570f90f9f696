package repository

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/repository/packageapi"
	"github.com/cairn-dc/cairn/repository/remote"
)

// entry is a configured repository, opened.
type entry struct {
	StoredRepository
	repo *remote.Repo
	key  string
}

// openKey identifies an opened repository by everything it is opened with.
func openKey(r StoredRepository) string {
	return strings.Join([]string{r.URI, r.Username, r.Password, fmt.Sprint(r.PlainHTTP)}, "\x00")
}

// open opens (or reuses) the remote.Repo of a configured repository.
func (s *Server) open(r StoredRepository) (*remote.Repo, error) {
	key := openKey(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if repo, ok := s.opened[key]; ok {
		return repo, nil
	}
	repo, err := remote.Open(remote.Config{
		URI:        r.URI,
		Username:   r.Username,
		Password:   r.Password,
		PlainHTTP:  r.PlainHTTP,
		HTTPClient: s.hc,
		Logger:     s.log,
	})
	if err != nil {
		return nil, err
	}
	s.opened[key] = repo
	return repo, nil
}

// entries loads the configured repositories in priority order. The store
// is read on every call, so masters sharing it agree; if it fails, the
// last list read is used (with a warning).
func (s *Server) entries(ctx context.Context) ([]entry, error) {
	repos, rev, err := s.store.Load(ctx)
	if err != nil {
		s.mu.Lock()
		loaded, last := s.loaded, slices.Clone(s.repos)
		s.mu.Unlock()
		if !loaded {
			return nil, newAPIError(http.StatusInternalServerError, packageapi.ErrInternal, err,
				"loading the configured repositories: %v", err)
		}
		s.log.Warn("cannot load the configured repositories; using the last ones read", "err", err)
		repos = last
	} else {
		s.setRepos(repos, rev)
	}
	out := make([]entry, 0, len(repos))
	for i, r := range repos {
		r.Priority = i
		repo, err := s.open(r)
		if err != nil {
			s.log.Warn("skipping a configured repository that cannot be opened", "name", r.Name, "uri", r.URI, "err", err)
			continue
		}
		out = append(out, entry{StoredRepository: r, repo: repo, key: openKey(r)})
	}
	return out, nil
}

// setRepos records the repositories last read, and forgets the opened
// repositories and cached indexes of those no longer configured.
func (s *Server) setRepos(repos []StoredRepository, rev uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loaded && rev == s.rev {
		return
	}
	s.repos, s.rev, s.loaded = slices.Clone(repos), rev, true
	keep := map[string]bool{}
	for _, r := range repos {
		keep[openKey(r)] = true
	}
	for k := range s.opened {
		if !keep[k] {
			delete(s.opened, k)
		}
	}
	for k := range s.indexes {
		if !keep[k] {
			delete(s.indexes, k)
		}
	}
}

// indexEntry is a cached repository index; done is closed once fetched.
type indexEntry struct {
	done chan struct{}
	idx  *remote.Index
	err  error
	at   time.Time
}

// indexFetchTimeout bounds fetching one index for the cache (the fetch
// outlives the request that started it, as others may wait on it).
const indexFetchTimeout = 2 * time.Minute

// index returns a repository's index, cached for the TTL (failures too,
// so an unreachable repository does not slow every search). Concurrent
// callers share one fetch.
func (s *Server) index(ctx context.Context, e entry) (*remote.Index, error) {
	s.mu.Lock()
	ie := s.indexes[e.key]
	if ie != nil {
		select {
		case <-ie.done:
			if s.ttl < 0 || time.Since(ie.at) >= s.ttl {
				ie = nil
			}
		default: // being fetched
		}
	}
	if ie == nil {
		ie = &indexEntry{done: make(chan struct{})}
		s.indexes[e.key] = ie
		s.mu.Unlock()
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), indexFetchTimeout)
		idx, err := e.repo.Index(fctx)
		cancel()
		s.mu.Lock()
		ie.idx, ie.err, ie.at = idx, err, time.Now()
		close(ie.done)
	}
	s.mu.Unlock()
	select {
	case <-ie.done:
		return ie.idx, ie.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// invalidateIndexes forgets every cached index.
func (s *Server) invalidateIndexes() {
	s.mu.Lock()
	s.indexes = map[string]*indexEntry{}
	s.mu.Unlock()
}

// publicRepository is what the API shows of a configured repository.
func publicRepository(r StoredRepository, priority int) packageapi.Repository {
	p := r.Repository
	p.Priority = priority
	p.HasCredentials = r.Username != "" || r.Password != ""
	return p
}

func (s *Server) repositoryList(ctx context.Context, _ *packageapi.RepositoryListRequest) (*packageapi.RepositoryListResponse, error) {
	repos, _, err := s.store.Load(ctx)
	if err != nil {
		return nil, newAPIError(http.StatusInternalServerError, packageapi.ErrInternal, err, "loading the configured repositories: %v", err)
	}
	return listResponse(repos), nil
}

func listResponse(repos []StoredRepository) *packageapi.RepositoryListResponse {
	out := &packageapi.RepositoryListResponse{Repositories: make([]packageapi.Repository, 0, len(repos))}
	for i, r := range repos {
		out.Repositories = append(out.Repositories, publicRepository(r, i))
	}
	return out
}

// repositoryNameRE is what a repository name may be.
var repositoryNameRE = regexp.MustCompile(`^[a-z0-9-]+$`)

const maxRepositoryName = 63

func validRepositoryName(field, name string) error {
	switch {
	case name == "":
		return badRequest("%s: required: name the repository (lowercase letters, digits and dashes)", field)
	case len(name) > maxRepositoryName || !repositoryNameRE.MatchString(name):
		return badRequest("%s: %q: a repository name is 1 to %d lowercase letters, digits and dashes", field, name, maxRepositoryName)
	}
	return nil
}

// storeRetries bounds the load-modify-save rounds when other masters
// change the repositories at the same time.
const storeRetries = 5

func (s *Server) repositoryAdd(ctx context.Context, req *packageapi.RepositoryAddRequest) (*packageapi.RepositoryListResponse, error) {
	if err := validRepositoryName("name", req.Name); err != nil {
		return nil, err
	}
	if req.URI == "" {
		return nil, badRequest("uri: required: give the registry namespace, e.g. oci://registry.example.com:5000/cairn")
	}
	if _, _, err := remote.ParseURI(req.URI); err != nil {
		return nil, badRequest("%v", err)
	}
	if req.Password != "" && req.Username == "" {
		return nil, badRequest("username: required with a password")
	}
	if req.Index != nil && *req.Index < 0 {
		return nil, badRequest("index: %d: give a position from 0 (searched first)", *req.Index)
	}
	add := StoredRepository{
		Repository: packageapi.Repository{Name: req.Name, URI: canonicalURI(req.URI), Username: req.Username, PlainHTTP: req.PlainHTTP},
		Password:   req.Password,
	}
	repo, err := remote.Open(remote.Config{URI: add.URI, Username: add.Username, Password: add.Password, PlainHTTP: add.PlainHTTP, HTTPClient: s.hc, Logger: s.log})
	if err != nil {
		return nil, badRequest("%v", err)
	}
	// Check before taking any lock: nothing is saved if the registry
	// does not answer or refuses the credentials.
	if err := repo.Ping(ctx); err != nil {
		return nil, fmt.Errorf("repository %q not added: %w", req.Name, err)
	}
	s.change.Lock()
	defer s.change.Unlock()
	for attempt := 0; attempt < storeRetries; attempt++ {
		repos, rev, err := s.store.Load(ctx)
		if err != nil {
			return nil, newAPIError(http.StatusInternalServerError, packageapi.ErrInternal, err, "loading the configured repositories: %v", err)
		}
		for _, r := range repos {
			if r.Name == add.Name {
				return nil, newAPIError(http.StatusConflict, packageapi.ErrRepositoryExists, nil,
					"a repository named %q exists (%s): remove it first, or choose another name", r.Name, r.URI)
			}
			if canonicalURI(r.URI) == add.URI {
				return nil, newAPIError(http.StatusConflict, packageapi.ErrRepositoryExists, nil,
					"repository %q already has the URI %s", r.Name, r.URI)
			}
		}
		at := len(repos)
		if req.Index != nil {
			if *req.Index > len(repos) {
				return nil, badRequest("index: %d: there are %d repositories: give a position from 0 to %d", *req.Index, len(repos), len(repos))
			}
			at = *req.Index
		}
		next := slices.Insert(slices.Clone(repos), at, add)
		renumber(next)
		newRev, err := s.store.Save(ctx, next, rev)
		if errors.Is(err, ErrStoreConflict) {
			continue
		}
		if err != nil {
			return nil, newAPIError(http.StatusInternalServerError, packageapi.ErrInternal, err, "saving the configured repositories: %v", err)
		}
		s.setRepos(next, newRev)
		s.invalidateIndexes()
		s.log.Info("package repository added", "name", add.Name, "uri", add.URI, "priority", at)
		return listResponse(next), nil
	}
	return nil, newAPIError(http.StatusInternalServerError, packageapi.ErrInternal, ErrStoreConflict, "the configured repositories kept changing meanwhile: try again")
}

func renumber(repos []StoredRepository) {
	for i := range repos {
		repos[i].Priority = i
	}
}

func (s *Server) repositoryDelete(ctx context.Context, req *packageapi.RepositoryDeleteRequest) (*packageapi.RepositoryListResponse, error) {
	if req.Name == "" {
		return nil, badRequest("name: required: the repository to remove (see %s)", packageapi.PathRepositoryList)
	}
	s.change.Lock()
	defer s.change.Unlock()
	for attempt := 0; attempt < storeRetries; attempt++ {
		repos, rev, err := s.store.Load(ctx)
		if err != nil {
			return nil, newAPIError(http.StatusInternalServerError, packageapi.ErrInternal, err, "loading the configured repositories: %v", err)
		}
		i := slices.IndexFunc(repos, func(r StoredRepository) bool { return r.Name == req.Name })
		if i < 0 {
			names := make([]string, len(repos))
			for j, r := range repos {
				names[j] = r.Name
			}
			return nil, newAPIError(http.StatusNotFound, packageapi.ErrRepositoryNotFound, nil,
				"no repository named %q (there are: %s)", req.Name, strings.Join(names, ", "))
		}
		next := slices.Delete(slices.Clone(repos), i, i+1)
		renumber(next)
		newRev, err := s.store.Save(ctx, next, rev)
		if errors.Is(err, ErrStoreConflict) {
			continue
		}
		if err != nil {
			return nil, newAPIError(http.StatusInternalServerError, packageapi.ErrInternal, err, "saving the configured repositories: %v", err)
		}
		s.setRepos(next, newRev)
		s.invalidateIndexes()
		s.log.Info("package repository removed", "name", req.Name)
		return listResponse(next), nil
	}
	return nil, newAPIError(http.StatusInternalServerError, packageapi.ErrInternal, ErrStoreConflict, "the configured repositories kept changing meanwhile: try again")
}
