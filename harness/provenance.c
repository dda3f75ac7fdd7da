/* provenance.c: PLACEHOLDER until the provenance work lands (issue 2, item
 * 6): kernel, build and command line only. */
#include "harness/provenance.h"
#include "harness/topology.h"
#include "build_info.h"

#include <sys/utsname.h>

json_t *jb_provenance_collect(const struct jb_topo *t, int argc, char **argv,
                              const char *sysfs_root)
{
    (void)sysfs_root;
    json_t *s = json_object();
    struct utsname u;
    if (uname(&u) == 0) {
        json_object_set_new(s, "hostname", json_string(u.nodename));
        json_object_set_new(s, "kernel", json_string(u.release));
        json_object_set_new(s, "arch", json_string(u.machine));
    }
    json_t *cmd = json_array();
    for (int i = 0; i < argc; i++)
        json_array_append_new(cmd, json_string(argv[i]));
    json_object_set_new(s, "command_line", cmd);
    json_object_set_new(s, "joulebench_version", json_string(JB_VERSION));
    json_object_set_new(s, "git_commit", json_string(JB_GIT_COMMIT));
    json_object_set_new(s, "compiler", json_string(JB_C_COMPILER));
    json_object_set_new(s, "compiler_flags", json_string(JB_C_FLAGS));
    json_object_set_new(s, "topology_hash", json_string(t ? jb_topo_hash(t) : ""));
    return s;
}
