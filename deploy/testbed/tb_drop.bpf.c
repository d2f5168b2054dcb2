/* tc classifier in direct-action mode that drops every packet (TC_ACT_SHOT).
 * The testbed's "loss" failure uses it where the kernel has no sch_netem. */
__attribute__((section("classifier"), used)) int tb_drop(void *skb) { return 2; }
char _license[] __attribute__((section("license"), used)) = "GPL";
