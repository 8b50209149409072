/*
 * LD_PRELOAD shim for `make bench-profile` only: just before the first
 * mdb_env_close (so while the store is still mapped, near the process's peak)
 * appends "RSS_KB<TAB>MAPPING" lines for every mapping with resident pages,
 * summed by name, to the file named by SHIM_SMAPS_OUT, then a "--" line.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#define MAX_MAPS 256

static void
dump(void)
{
	const char *path = getenv("SHIM_SMAPS_OUT");
	char line[1024], name[512] = "", names[MAX_MAPS][128];
	long rss[MAX_MAPS];
	int n = 0;
	FILE *in, *out;

	if (path == NULL || (in = fopen("/proc/self/smaps", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), in) != NULL) {
		long kb;
		char *sp;
		if (strncmp(line, "Rss:", 4) == 0) {
			kb = atol(line + 4);
			if (kb == 0)
				continue;
			int i;
			for (i = 0; i < n; i++)
				if (strcmp(names[i], name) == 0)
					break;
			if (i == n && n < MAX_MAPS) {
				snprintf(names[n], sizeof(names[n]), "%s", name);
				rss[n++] = 0;
			}
			if (i < n)
				rss[i] += kb;
		} else if ((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f')) {
			/* "start-end perms offset dev inode   name" */
			if (strchr(line, '-') != NULL && strstr(line, " kB") == NULL) {
				sp = line;
				for (int field = 0; field < 5 && sp != NULL; field++) {
					sp = strchr(sp, ' ');
					if (sp != NULL)
						while (*sp == ' ')
							sp++;
				}
				snprintf(name, sizeof(name), "%s", sp != NULL && *sp && *sp != '\n' ? sp : "[anon]\n");
				name[strcspn(name, "\n")] = '\0';
			}
		}
	}
	fclose(in);
	if ((out = fopen(path, "a")) == NULL)
		return;
	for (int i = 0; i < n; i++)
		fprintf(out, "%ld\t%s\n", rss[i], names[i]);
	fputs("--\n", out);
	fclose(out);
}

void
mdb_env_close(MDB_env *env)
{
	static void (*real)(MDB_env *);
	static int done;

	if (real == NULL)
		real = (void (*)(MDB_env *))dlsym(RTLD_NEXT, "mdb_env_close");
	if (!done) {
		done = 1;
		dump();
	}
	real(env);
}
