package mgmt

import (
	"strconv"
	"strings"
)

// intParam reads an integer request field as RabbitMQ's
// rabbit_mgmt_util:parse_int does: a JSON integer or a string of digits
// (rabbitmqadmin sends get's count and truncate as strings, "1").
func intParam(v any) (int64, bool) {
	if s, ok := v.(string); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return n, err == nil
	}
	n, ok := fieldFromJSON(v).(int64)
	return n, ok
}
