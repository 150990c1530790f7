/**
 * The one place a cadre's name meets a group message (docs/rules.md#names-in-groups: a deployment
 * can keep cadres' names out of group messages entirely). With MINQING_NAMES_IN_GROUPS=false a
 * group sees the role (责任人, 干部), never the person; direct messages are unaffected. Handlers
 * and reminder plans call this for every name they put into a message bound for a group.
 */
export function nameInGroup(name: string, namesInGroups: boolean, role = '干部'): string {
  return namesInGroups ? name : role;
}
