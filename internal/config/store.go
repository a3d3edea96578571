package config

import "fmt"

// storeSettings maps each store to the setting that locates it, when one
// must: the settings a user gives for a store they mean to use.
var storeSettings = map[string]string{StoreMongoDB: "MONGODB_URI", StorePostgres: "DATABASE_URL"}

// checkStore settles EventsStore: the command's default when unset. It
// refuses combinations that cannot be what the user meant, naming the
// settings: the postgres store without DATABASE_URL, and, when EVENTS_STORE
// is not set, a URL given for a store other than the default (DATABASE_URL
// with serve's default of mongodb would otherwise be ignored in silence).
// When EVENTS_STORE is set, it decides, and other stores' settings are
// unused. given maps the settings that were set to how they were named.
func (c *Config) checkStore(given map[string]string) error {
	storeName, explicit := given["EVENTS_STORE"]
	if !explicit {
		c.EventsStore = defaultStore[c.Command]
		storeName = "EVENTS_STORE"
	}
	if c.EventsStore == StorePostgres && c.DatabaseURL == "" {
		return fmt.Errorf("%s=postgres needs DATABASE_URL, a postgres:// URL of the database to keep events in", storeName)
	}
	if explicit {
		return nil
	}
	for _, store := range []string{StoreMongoDB, StorePostgres} {
		name, ok := given[storeSettings[store]]
		if ok && store != c.EventsStore {
			return fmt.Errorf("%s is set but EVENTS_STORE is not, and eventsd %s keeps events in %s by default: "+
				"set EVENTS_STORE=%s to keep them where %s says, or unset %s", name, c.Command, c.EventsStore, store, name, name)
		}
	}
	return nil
}

// devRedisSettings are the Redis settings other than REDIS_URL.
var devRedisSettings = []string{"REDIS_HOST", "REDIS_PORT", "REDIS_DB", "REDIS_PASSWORD", "REDIS_TLS", "REDIS_ADDRS", "REDIS_SENTINEL_MASTER"}

// checkDevRedis refuses Redis settings that dev would ignore: dev uses a
// Redis server only when REDIS_URL names one (and REDIS_PASSWORD may go with
// it).
func (c *Config) checkDevRedis(given map[string]string) error {
	if c.Command != Dev {
		return nil
	}
	for _, env := range devRedisSettings {
		name, ok := given[env]
		if !ok || (c.RedisURL != "" && env == "REDIS_PASSWORD") {
			continue
		}
		if c.RedisURL == "" {
			return fmt.Errorf("%s is set without REDIS_URL, and eventsd dev runs its own Redis unless REDIS_URL names a server: "+
				"set REDIS_URL (e.g. redis://localhost:6379/0), or unset %s", name, name)
		}
		return fmt.Errorf("%s is set with REDIS_URL, and eventsd dev connects only to the one server REDIS_URL names: unset %s, or use eventsd serve", name, name)
	}
	return nil
}
