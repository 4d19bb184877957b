/* Fuzz target for the rule language: any bytes go through the parser, the
 * settings parser, the set-file parser, validation and diagnostic printing
 * without harm. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>

#include "portctl/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum input_kind { INPUT_RULES, INPUT_SETTINGS, INPUT_SET_FILE };

/* The bytes as the list file of "set fuzz file fuzz.txt", as the loader
 * would have read it into the sources. */
static void set_file_add(struct pc_config *cfg, char *copy, size_t size, struct pc_diags *d)
{
	static const char rules[] = "set fuzz file fuzz.txt\ndeny from @fuzz\n";
	char *text = strdup(rules);

	if (!text || pc_parse_buffer(cfg, "fuzz.rules", text, sizeof(rules) - 1, PC_ORIGIN_ADMIN,
				     d) < 0 ||
	    !pc_sources_add(&cfg->sources, "fuzz.txt", copy, size)) {
		free(copy);
		return;
	}
	cfg->sources.items[cfg->sources.n - 1].kind = PC_SOURCE_SET;
}

static void input_run(FILE *sink, const uint8_t *data, size_t size, enum input_kind kind)
{
	struct pc_config *cfg = pc_config_new();
	struct pc_diags d;
	char *copy = malloc(size + 1);

	if (!cfg || !copy) {
		free(copy);
		pc_config_free(cfg);
		return;
	}
	memcpy(copy, data, size);
	copy[size] = '\0';
	pc_diags_init(&d);
	if (kind == INPUT_SETTINGS)
		pc_settings_parse(cfg, "fuzz.conf", copy, size, &d);
	else if (kind == INPUT_SET_FILE)
		set_file_add(cfg, copy, size, &d);
	else
		pc_parse_buffer(cfg, "fuzz.rules", copy, size, PC_ORIGIN_ADMIN, &d);
	pc_config_validate(cfg, &d);
	pc_config_validate(cfg, &d);
	pc_diags_print(sink, &d, &cfg->sources);
	pc_diags_free(&d);
	pc_config_free(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;

	if (!sink)
		sink = fopen("/dev/null", "w");
	if (!sink)
		return 0;
	/* One input, both parsers: the first byte picks nothing, so a seed
	 * that is a rules file is fuzzed as one. */
	input_run(sink, data, size, INPUT_RULES);
	input_run(sink, data, size, INPUT_SETTINGS);
	input_run(sink, data, size, INPUT_SET_FILE);
	return 0;
}

#ifndef FUZZING
/* Without libFuzzer: run every file of the corpus (or the given files)
 * once, as a regression test. */
static int file_run(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int r = pc_read_file(path, 64 << 20, &data, &len);

	if (r < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(-r));
		return r;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	free(data);
	return 0;
}

static int dir_run(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	int n = 0, r = 0;

	if (!dp) {
		perror(dir);
		return -1;
	}
	while ((de = readdir(dp))) {
		_cleanup_free_ char *path = NULL;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0 || file_run(path) < 0)
			r = -1;
		n++;
	}
	closedir(dp);
	printf("%d corpus inputs ran\n", n);
	return n > 0 ? r : -1;
}

int main(int argc, char *argv[])
{
	const char *top = getenv("top_srcdir");
	_cleanup_free_ char *dir = NULL;
	int r = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (file_run(argv[i]) < 0)
				r = -1;
		return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	}
	if (asprintf(&dir, "%s/tests/fuzz/corpus/parse", top ? top : ".") < 0)
		return EXIT_FAILURE;
	return dir_run(dir) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
#endif
