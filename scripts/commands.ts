/** Every command of the bot, in the order /帮助 lists them. Adding a command touches this list only. */
import type { CommandDef } from '../bot/command.js';
import { recordCommands } from '../handlers/records.js';
import { issueCommands } from '../handlers/issues.js';
import { statsCommands } from '../handlers/stats.js';
import { adminCommands } from '../handlers/admin.js';
import { helpCommand } from '../handlers/help.js';
import { remindCommand } from '../handlers/reminders.js';
import { reportCommands } from '../handlers/reports.js';
import { householdCommands } from '../handlers/households.js';
import { cancelCommand } from '../handlers/drafts.js';

export function allCommands(): CommandDef<any>[] {
  return [...recordCommands, cancelCommand, ...issueCommands, ...statsCommands, ...reportCommands, ...householdCommands, ...adminCommands, remindCommand, helpCommand];
}
