package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"hearth/internal/audit"
	"hearth/internal/config"
	"hearth/internal/store"
	"hearth/internal/store/sqlite"
)

// lastConfigKey holds the settings of the previous start, to record what changed.
const lastConfigKey = "server.last_config"

// configValues renders every setting by name. The configuration holds no secret (the
// instance secret is a file it names), so all of it may be recorded.
func configValues(cfg *config.Config) map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(*cfg)
	for i := range v.NumField() {
		out[v.Type().Field(i).Name] = fmt.Sprint(v.Field(i).Interface())
	}
	return out
}

// recordConfigChange compares the settings with those of the previous start and records a
// config.change entry naming each changed setting with its old and new value.
func recordConfigChange(ctx context.Context, meta *sqlite.Store, trail *audit.Trail, cfg *config.Config) error {
	now := configValues(cfg)
	prevText, err := meta.Setting(ctx, lastConfigKey)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if prevText != "" {
		var prev map[string]string
		if err := json.Unmarshal([]byte(prevText), &prev); err != nil {
			return fmt.Errorf("previous configuration: %w", err)
		}
		details := map[string]string{}
		var changed []string
		for k, v := range now {
			if old, ok := prev[k]; ok && old != v {
				details[k] = old + " → " + v
				changed = append(changed, k)
			}
		}
		if len(changed) > 0 {
			sort.Strings(changed)
			details["changed"] = strings.Join(changed, ",")
			if err := trail.Record(ctx, audit.Event{Actor: "system", Action: audit.ActionConfigChange, Target: "config", Details: details}); err != nil {
				return err
			}
		}
	}
	b, err := json.Marshal(now)
	if err != nil {
		return err
	}
	return meta.SetSetting(ctx, lastConfigKey, string(b))
}
