package ingest

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/internal/store"
)

// emailHits carry one address in every text a hit can hold it in.
var emailHits = []string{
	"idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fp%2Fjane.doe%40corp.example%3Femail%3Djane.doe%2540corp.example%26x%3D1" +
		"&action_name=Profile%20of%20jane.doe%40corp.example&urlref=https%3A%2F%2Fwww.google.com%2Fsearch%3Fq%3Djane.doe%2540corp.example",
	"idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fsearch%3Fq%3Djane.doe%2540corp.example",
	"idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fsearch&search=jane.doe%40corp.example&search_cat=jane.doe%40corp.example",
	"idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fn&e_c=Newsletter&e_a=signup&e_n=jane.doe%40corp.example&dimension1=jane.doe%40corp.example",
	"idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fn&link=mailto%3Ajane.doe%40corp.example",
	"idsite=1&rec=1&url=https%3A%2F%2Fjane.doe%40clinic.example%2Fuserinfo",
	// A URL carried in a parameter of the page's URL, so the address in it is encoded twice.
	"idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Flogin%3Fnext%3Dhttps%253A%252F%252Fclinic.example%252F%253Femail%253Djane.doe%252540corp.example",
	// A crash report's message and URL.
	"idsite=1&rec=1&ca=1&cra=Failed%20for%20jane.doe%40corp.example&cra_tp=TypeError&cra_ru=https%3A%2F%2Fclinic.example%2Fp%3Fe%3Djane.doe%2540corp.example",
}

// filesHolding lists the files under dir that contain needle.
func filesHolding(t *testing.T, dir, needle string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			if err != nil && os.IsNotExist(err) {
				return nil
			}
			return err
		}
		b, err := os.ReadFile(p)
		if errorsIsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(needle)) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func errorsIsNotExist(err error) bool {
	return err != nil && (os.IsNotExist(err) || err == fs.ErrNotExist)
}

// TestEmailAddressesRedacted: with the default site settings no e-mail address sent in a
// URL (path, query, encoded or not), title, referrer, search keyword, event, custom dimension
// or outlink reaches the spool or the event store; a site that keeps addresses keeps them.
func TestEmailAddressesRedacted(t *testing.T) {
	r := newRig(t, t.TempDir(), &testSite)
	// Keep records in the spool, so it can be read before they are applied.
	if err := r.p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.applyEvery = time.Hour
	r.open()
	t0 := r.now
	for i, q := range emailHits {
		r.mustTrack(q+"&_id=0123456789abcdef", t0.Add(time.Duration(i)*time.Second))
	}
	if n := len(filesHolding(t, filepath.Join(r.dir, "spool"), "")); n == 0 {
		t.Fatal("no spool files to read")
	}
	for _, needle := range []string{"jane.doe", "jane.doe%40", "jane.doe%2540", "jane.doe%252540"} {
		if f := filesHolding(t, filepath.Join(r.dir, "spool"), needle); len(f) > 0 {
			t.Fatalf("%q reached the spool: %v", needle, f)
		}
	}
	got := r.visits()
	if len(got) != 1 {
		t.Fatalf("visits: %d", len(got))
	}
	v := got[0]
	texts := []string{v.Visit.Referrer.URL, v.Visit.Referrer.Keyword, v.Visit.Referrer.Name}
	for _, a := range v.Actions {
		texts = append(texts, a.URL, a.Title, a.SearchKeyword, a.SearchCategory, a.EventCategory, a.EventAction, a.EventName)
		for _, d := range a.Dimensions {
			texts = append(texts, d)
		}
	}
	for _, d := range v.Visit.Dimensions {
		texts = append(texts, d)
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{
		"https://clinic.example/p/[email]?email=[email]&x=1",
		"Profile of [email]",
		"https://www.google.com/search?q=[email]",
		"https://clinic.example/userinfo",
		"mailto:[email]",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in the stored texts:\n%s", want, all)
		}
	}
	if strings.Contains(all, "jane") {
		t.Fatalf("an address was stored:\n%s", all)
	}
	if f := filesHolding(t, r.dir, "jane.doe"); len(f) > 0 {
		t.Fatalf("an address is on disk: %v", f)
	}

	// A site that keeps addresses (an audited choice) stores them as sent.
	k := newRig(t, t.TempDir(), &store.Site{Name: "Keeps", URLs: []string{"https://clinic.example"}, Timezone: "UTC", Currency: "EUR", KeepEmails: true})
	k.mustTrack(emailHits[0]+"&_id=0123456789abcdef", t0)
	kv := k.visits()
	if len(kv) != 1 || len(kv[0].Actions) == 0 || !strings.Contains(kv[0].Actions[0].URL, "jane.doe@corp.example") || kv[0].Actions[0].Title != "Profile of jane.doe@corp.example" {
		t.Fatalf("a site keeping addresses: %+v", kv)
	}
}
