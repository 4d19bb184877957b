/* libFuzzer target for the daemon's request decoder: any bytes a client can
 * send must be refused cleanly or decoded into a well-formed request. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "portctl/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_request req;
	char reason[PC_PROTO_REASON_MAX];
	int r;

	reason[0] = '\0';
	r = pc_request_decode(data, size, &req, reason, sizeof(reason));
	if (r == 0) {
		/* A decoded request honours the decoder's promises. */
		if (!json_is_object(req.args) || req.cmd[0] == '\0' ||
		    strlen(req.cmd) > PC_PROTO_CMD_MAX)
			abort();
		pc_request_done(&req);
	} else if (r != -ENOMEM && reason[0] == '\0') {
		abort();
	}
	return 0;
}
