// Package audit keeps Hearth's tamper-evident audit trail: an append-only chain of entries,
// each carrying an HMAC (keyed from the instance secret) over its content and the previous
// entry's hash, plus a head file outside the database so that deleting the newest entries is
// detected too. Nothing in the product edits entries; the only deletion is retention (off
// unless a superuser sets it, audited), which removes the oldest entries and leaves a recorded
// anchor so that verification still proves nothing else went.
package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"hearth/internal/privacy"
	"hearth/internal/store"
)

// Store is what the trail needs from the metadata store.
type Store interface {
	AppendAudit(ctx context.Context, build func(prevSeq int64, prevHash []byte) (store.AuditEntry, error)) (store.AuditEntry, error)
	AuditEntries(ctx context.Context, from, to time.Time, fn func(store.AuditEntry) error) error
	DeleteAuditThrough(ctx context.Context, seq int64) (int, error)
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
}

// Outcomes.
const (
	Success = "success"
	Failure = "failure"
)

// Event is something to record. Details must never hold a password, token or secret.
type Event struct {
	Actor   string // user login, "token:<id>", "cli" or "system"
	IP      netip.Addr
	Action  string // e.g. "auth.login", "token.create", "site.update"
	Target  string // e.g. "site:3", "user:alice"
	Outcome string
	Details map[string]string
}

// Trail records and verifies audit entries.
type Trail struct {
	store    Store
	key      []byte
	headPath string
	ipBytes  int
	now      func() time.Time
}

// Options configure a Trail.
type Options struct {
	Key      []byte // HMAC key, derived from the instance secret
	HeadPath string // the head file, normally <data-dir>/audit.head
	IPBytes  int    // bytes of the actor IP zeroed before recording (1-3)
	Now      func() time.Time
}

// New builds a trail on a store.
func New(s Store, opts Options) *Trail {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.IPBytes < 1 || opts.IPBytes > 3 {
		opts.IPBytes = 2
	}
	return &Trail{store: s, key: opts.Key, headPath: opts.HeadPath, ipBytes: opts.IPBytes, now: opts.Now}
}

// hash is the keyed hash of an entry's content chained to the previous hash.
func (t *Trail) hash(e store.AuditEntry) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write(e.PrevHash)
	fmt.Fprintf(m, "\x00%d\x00%d\x00", e.Seq, e.Time.UnixMicro())
	for _, f := range []string{e.Actor, e.ActorIP, e.Action, e.Target, e.Outcome, e.Details} {
		fmt.Fprintf(m, "%d:%s\x00", len(f), f)
	}
	return m.Sum(nil)
}

// Record appends an event.
func (t *Trail) Record(ctx context.Context, ev Event) error {
	details := "{}"
	if len(ev.Details) > 0 {
		b, err := json.Marshal(ev.Details) // map keys are sorted: canonical
		if err != nil {
			return fmt.Errorf("encode audit details: %w", err)
		}
		details = string(b)
	}
	ip := ""
	if ev.IP.IsValid() {
		ip = privacy.TruncateIP(ev.IP, t.ipBytes).String()
	}
	outcome := ev.Outcome
	if outcome == "" {
		outcome = Success
	}
	e, err := t.store.AppendAudit(ctx, func(prevSeq int64, prevHash []byte) (store.AuditEntry, error) {
		e := store.AuditEntry{Seq: prevSeq + 1, Time: t.now().UTC().Truncate(time.Microsecond), Actor: ev.Actor, ActorIP: ip,
			Action: ev.Action, Target: ev.Target, Outcome: outcome, Details: details, PrevHash: prevHash}
		if e.PrevHash == nil {
			e.PrevHash = []byte{}
		}
		e.Hash = t.hash(e)
		return e, nil
	})
	if err != nil {
		return err
	}
	return t.advanceHead(e.Seq, e.Hash)
}

// head is the newest entry a trail has recorded, kept outside the database.
type head struct {
	seq  int64
	hash []byte
}

func (t *Trail) headMAC(seq int64, hash []byte) string {
	m := hmac.New(sha256.New, t.key)
	fmt.Fprintf(m, "head\x00%d\x00", seq)
	m.Write(hash)
	return hex.EncodeToString(m.Sum(nil))
}

func (t *Trail) readHead() (head, bool, error) {
	b, err := os.ReadFile(t.headPath)
	if errors.Is(err, os.ErrNotExist) {
		return head{}, false, nil
	}
	if err != nil {
		return head{}, false, fmt.Errorf("read audit head: %w", err)
	}
	parts := strings.Fields(string(b))
	if len(parts) != 3 {
		return head{}, true, errors.New("audit head file is malformed")
	}
	seq, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return head{}, true, errors.New("audit head file is malformed")
	}
	hash, err := hex.DecodeString(parts[1])
	if err != nil {
		return head{}, true, errors.New("audit head file is malformed")
	}
	if !hmac.Equal([]byte(parts[2]), []byte(t.headMAC(seq, hash))) {
		return head{}, true, errors.New("audit head file was altered")
	}
	return head{seq: seq, hash: hash}, true, nil
}

// advanceHead moves the head file forward (never back), under a file lock shared by every
// process writing to the trail.
func (t *Trail) advanceHead(seq int64, hash []byte) error {
	if t.headPath == "" {
		return nil
	}
	lock, err := os.OpenFile(t.headPath+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("lock audit head: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil { // #nosec G115 -- a file descriptor
		return fmt.Errorf("lock audit head: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) // #nosec G115 -- a file descriptor
	if cur, ok, err := t.readHead(); err == nil && ok && cur.seq >= seq {
		return nil
	}
	tmp := t.headPath + ".tmp"
	body := fmt.Sprintf("%d %s %s\n", seq, hex.EncodeToString(hash), t.headMAC(seq, hash))
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("write audit head: %w", err)
	}
	if _, err := f.WriteString(body); err != nil {
		f.Close()
		return fmt.Errorf("write audit head: %w", err)
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("write audit head: %w", err)
	}
	if err := os.Rename(tmp, t.headPath); err != nil {
		return fmt.Errorf("write audit head: %w", err)
	}
	d, err := os.Open(filepath.Dir(t.headPath))
	if err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Problem describes the first entry that fails verification.
type Problem struct {
	Seq    int64
	Reason string
}

func (p *Problem) Error() string { return fmt.Sprintf("audit entry %d: %s", p.Seq, p.Reason) }

// Report is the outcome of a verification.
type Report struct {
	// PrunedThrough is the last entry retention removed (0: none).
	PrunedThrough int64
	Entries       int64
	LastSeq       int64
}

// Verify walks the whole chain: sequence numbers without gaps, each entry's previous hash
// equal to the hash before it, each hash matching the entry's content, and the head file
// matching the last entry. A trail whose oldest entries retention removed must start right
// after the anchor an audit.prune entry recorded. It returns a *Problem naming the first bad entry.
func (t *Trail) Verify(ctx context.Context) (Report, error) {
	var r Report
	var prev []byte = []byte{}
	var problem *Problem
	var first store.AuditEntry
	anchored := false
	err := t.store.AuditEntries(ctx, time.Time{}, time.Time{}, func(e store.AuditEntry) error {
		want := r.LastSeq + 1
		if r.Entries == 0 {
			// The first entry: seq 1, or the one after a pruned prefix (checked below).
			first, want, prev = e, e.Seq, e.PrevHash
			if e.Seq == 1 && len(e.PrevHash) != 0 {
				prev = []byte{}
			}
		}
		switch {
		case e.Seq != want:
			problem = &Problem{Seq: want, Reason: fmt.Sprintf("missing (the next stored entry is %d)", e.Seq)}
		case !hmac.Equal(e.PrevHash, prev):
			problem = &Problem{Seq: e.Seq, Reason: "does not follow the entry before it (inserted, reordered, or the previous entry was changed)"}
		case !hmac.Equal(e.Hash, t.hash(e)):
			problem = &Problem{Seq: e.Seq, Reason: "content does not match its hash (changed)"}
		}
		if problem != nil {
			return problem
		}
		if e.Action == ActionAuditPrune && first.Seq > 1 {
			var d map[string]string
			if json.Unmarshal([]byte(e.Details), &d) == nil && d["through_seq"] == strconv.FormatInt(first.Seq-1, 10) &&
				d["through_hash"] == hex.EncodeToString(first.PrevHash) {
				anchored = true
			}
		}
		r.Entries++
		r.LastSeq = e.Seq
		prev = e.Hash
		return nil
	})
	if problem != nil {
		return r, problem
	}
	if err != nil {
		return r, err
	}
	if first.Seq > 1 {
		if !anchored {
			return r, &Problem{Seq: first.Seq - 1, Reason: fmt.Sprintf("missing: the trail starts at %d and no retention run recorded removing the entries before it", first.Seq)}
		}
		r.PrunedThrough = first.Seq - 1
	}
	if t.headPath == "" {
		return r, nil
	}
	h, ok, err := t.readHead()
	if err != nil {
		return r, &Problem{Seq: r.LastSeq + 1, Reason: err.Error()}
	}
	if !ok {
		if r.Entries > 0 {
			return r, &Problem{Seq: r.LastSeq, Reason: "the head file is missing"}
		}
		return r, nil
	}
	if h.seq > r.LastSeq {
		return r, &Problem{Seq: r.LastSeq + 1, Reason: fmt.Sprintf("missing: the trail ends at %d but reached %d (entries deleted)", r.LastSeq, h.seq)}
	}
	if h.seq == r.LastSeq && !hmac.Equal(h.hash, prev) {
		return r, &Problem{Seq: r.LastSeq, Reason: "differs from the recorded head (replaced)"}
	}
	return r, nil
}

// retentionKey is the setting holding how many days audit entries are kept (absent: forever).
const retentionKey = "audit.retention_days"

// MinRetentionDays is the shortest retention a superuser can set; HIPAA asks for six years
// (2190 days) of security documentation, so most deployments keep the default of forever.
const MinRetentionDays = 30

// ErrRetentionTooShort refuses a retention below MinRetentionDays.
var ErrRetentionTooShort = fmt.Errorf("audit retention must be 0 (keep forever) or at least %d days", MinRetentionDays)

// Retention returns how many days entries are kept; 0 means forever.
func (t *Trail) Retention(ctx context.Context) (int, error) {
	v, err := t.store.Setting(ctx, retentionKey)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	days, err := strconv.Atoi(v)
	if err != nil || days < 0 {
		return 0, fmt.Errorf("setting %s holds %q, not a number of days", retentionKey, v)
	}
	return days, nil
}

// SetRetention changes how many days entries are kept (0: forever), recording the change,
// with the previous value, in the trail itself.
func (t *Trail) SetRetention(ctx context.Context, days int, actor string, ip netip.Addr) error {
	if days != 0 && days < MinRetentionDays {
		return ErrRetentionTooShort
	}
	old, err := t.Retention(ctx)
	if err != nil {
		return err
	}
	if err := t.store.SetSetting(ctx, retentionKey, strconv.Itoa(days)); err != nil {
		return err
	}
	return t.Record(ctx, Event{Actor: actor, IP: ip, Action: ActionSettingChange, Target: "setting:" + retentionKey,
		Details: map[string]string{"value": strconv.Itoa(days), "previous": strconv.Itoa(old)}})
}

// errStop ends a scan early.
var errStop = errors.New("stop")

// Prune applies the retention setting: when entries older than it exist, it first records an
// audit.prune entry naming the last entry to go and its hash (the anchor Verify checks the
// remaining trail against), then deletes the oldest entries up to that one. Entries are only
// removed as a prefix of the chain. It returns how many entries went.
func (t *Trail) Prune(ctx context.Context) (int, error) {
	days, err := t.Retention(ctx)
	if err != nil || days == 0 {
		return 0, err
	}
	cutoff := t.now().Add(-time.Duration(days) * 24 * time.Hour)
	var last store.AuditEntry
	count := 0
	err = t.store.AuditEntries(ctx, time.Time{}, time.Time{}, func(e store.AuditEntry) error {
		if !e.Time.Before(cutoff) {
			return errStop
		}
		last = e
		count++
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return 0, err
	}
	if count == 0 {
		return 0, nil
	}
	if err := t.Record(ctx, Event{Actor: "system", Action: ActionAuditPrune, Target: "audit",
		Details: map[string]string{"through_seq": strconv.FormatInt(last.Seq, 10), "through_hash": hex.EncodeToString(last.Hash),
			"through_time": last.Time.Format(time.RFC3339), "retention_days": strconv.Itoa(days)}}); err != nil {
		return 0, err
	}
	return t.store.DeleteAuditThrough(ctx, last.Seq)
}

// Format of an export.
type Format string

// Export formats.
const (
	NDJSON Format = "ndjson"
	CSV    Format = "csv"
	JSON   Format = "json"
)

// Filter selects entries for an export.
type Filter struct {
	From, To time.Time // time range [From, To); zero means open
	Action   string    // exact action, or a prefix ending in "." (e.g. "auth.")
	Actor    string
	// Sites, when not nil, keeps only entries about these sites (targets naming "site:N"):
	// what a site admin may read.
	Sites map[int64]bool
}

func (f Filter) keep(e store.AuditEntry) bool {
	if f.Action != "" && e.Action != f.Action && !(strings.HasSuffix(f.Action, ".") && strings.HasPrefix(e.Action, f.Action)) {
		return false
	}
	if f.Actor != "" && e.Actor != f.Actor {
		return false
	}
	if f.Sites != nil {
		for _, word := range strings.Fields(e.Target) {
			if n, err := strconv.ParseInt(strings.TrimPrefix(word, "site:"), 10, 64); err == nil && strings.HasPrefix(word, "site:") && f.Sites[n] {
				return true
			}
		}
		return false
	}
	return true
}

// Export writes the entries with time in [from, to) to w.
func (t *Trail) Export(ctx context.Context, w io.Writer, format Format, from, to time.Time) error {
	return t.ExportFiltered(ctx, w, format, Filter{From: from, To: to})
}

// ExportFiltered writes the entries the filter keeps, as NDJSON, CSV or a JSON array.
func (t *Trail) ExportFiltered(ctx context.Context, w io.Writer, format Format, f Filter) error {
	each := func(fn func(store.AuditEntry) error) error {
		return t.store.AuditEntries(ctx, f.From, f.To, func(e store.AuditEntry) error {
			if !f.keep(e) {
				return nil
			}
			return fn(e)
		})
	}
	switch format {
	case NDJSON:
		enc := json.NewEncoder(w)
		return each(func(e store.AuditEntry) error { return enc.Encode(exported(e)) })
	case JSON:
		if _, err := io.WriteString(w, "["); err != nil {
			return err
		}
		first := true
		err := each(func(e store.AuditEntry) error {
			b, err := json.Marshal(exported(e))
			if err != nil {
				return err
			}
			if !first {
				if _, err := io.WriteString(w, ","); err != nil {
					return err
				}
			}
			first = false
			_, err = w.Write(b)
			return err
		})
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, "]\n")
		return err
	case CSV:
		cw := csv.NewWriter(w)
		if err := cw.Write([]string{"seq", "time", "actor", "actor_ip", "action", "target", "outcome", "details", "hash"}); err != nil {
			return err
		}
		err := each(func(e store.AuditEntry) error {
			return cw.Write([]string{strconv.FormatInt(e.Seq, 10), e.Time.Format(time.RFC3339Nano), e.Actor, e.ActorIP, e.Action,
				e.Target, e.Outcome, e.Details, hex.EncodeToString(e.Hash)})
		})
		cw.Flush()
		return errors.Join(err, cw.Error())
	}
	return fmt.Errorf("unknown export format %q (use ndjson, csv or json)", format)
}

type exportedEntry struct {
	Seq     int64             `json:"seq"`
	Time    time.Time         `json:"time"`
	Actor   string            `json:"actor"`
	ActorIP string            `json:"actor_ip,omitempty"`
	Action  string            `json:"action"`
	Target  string            `json:"target,omitempty"`
	Outcome string            `json:"outcome"`
	Details map[string]string `json:"details,omitempty"`
	Hash    string            `json:"hash"`
}

func exported(e store.AuditEntry) exportedEntry {
	var d map[string]string
	_ = json.Unmarshal([]byte(e.Details), &d)
	return exportedEntry{Seq: e.Seq, Time: e.Time, Actor: e.Actor, ActorIP: e.ActorIP, Action: e.Action, Target: e.Target,
		Outcome: e.Outcome, Details: d, Hash: hex.EncodeToString(e.Hash)}
}

// Actions lists the action names Hearth records, for documentation and tests.
func Actions() []string {
	a := []string{ActionServerStart, ActionServerStop, ActionUserCreate, ActionUserPassword, ActionUserDisable,
		ActionUserEnable, ActionTokenCreate, ActionTokenRevoke, ActionAuthFailure, ActionAuthBlock, ActionAuthLockout, ActionAuthUnlock, ActionAuthUnblock, ActionSiteCreate, ActionSiteUpdate,
		ActionRawDataView, ActionAccessGrant, ActionAccessRevoke, ActionCapabilityAdd, ActionCapabilityRemove,
		ActionSuperuserChange, ActionUserDelete, ActionUserUpdate, ActionAuditExport, ActionLogin, ActionLogout, ActionSessionExpire, Action2FAEnable, Action2FADisable, Action2FARecovery, ActionAuditPrune, ActionDimensionCreate, ActionDimensionUpdate, ActionGoalCreate, ActionGoalUpdate, ActionGoalDelete}
	sort.Strings(a)
	return a
}

// Action names.
const (
	ActionServerStart  = "server.start"
	ActionServerStop   = "server.stop"
	ActionUserCreate   = "user.create"
	ActionUserPassword = "user.password"
	ActionUserDisable  = "user.disable"
	ActionUserEnable   = "user.enable"
	ActionTokenCreate  = "token.create"
	ActionTokenRevoke  = "token.revoke"
	ActionTokenNewIP   = "token.use_new_ip" // #nosec G101 -- an audit action name, not a credential
	ActionAuthFailure  = "auth.failure"
	ActionAuthBlock    = "auth.block"
	ActionAuthLockout  = "auth.lockout"
	ActionAuthUnlock   = "auth.unlock"
	ActionAuthUnblock  = "auth.unblock"
	ActionSiteCreate   = "site.create"
	ActionSiteUpdate   = "site.update"
	ActionRawDataView  = "rawdata.view"

	ActionAccessGrant      = "access.grant"
	ActionAccessRevoke     = "access.revoke"
	ActionAccessExpire     = "access.expire"
	ActionCapabilityAdd    = "capability.add"
	ActionCapabilityRemove = "capability.remove"
	ActionSuperuserChange  = "superuser.change"
	ActionUserDelete       = "user.delete"
	ActionUserUpdate       = "user.update"
	ActionAuditExport      = "audit.export"
	ActionLogin            = "auth.login"
	ActionLogout           = "auth.logout"
	ActionSessionExpire    = "auth.session_expire"
	Action2FAEnable        = "2fa.enable"
	Action2FADisable       = "2fa.disable"
	Action2FARecovery      = "2fa.recovery_code_used"
	ActionSettingChange    = "setting.change"
	ActionConfigChange     = "config.change"
	ActionAuditPrune       = "audit.prune"
	ActionDimensionCreate  = "dimension.create"
	ActionDimensionUpdate  = "dimension.update"
	ActionGoalCreate       = "goal.create"
	ActionGoalUpdate       = "goal.update"
	ActionGoalDelete       = "goal.delete"
)

// ParseTime reads a --since/--until or since/until bound: RFC 3339, YYYY-MM-DDTHH:MM:SS or
// YYYY-MM-DD, in UTC; empty means no bound.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not a time")
}
