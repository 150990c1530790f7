/** Every command of the bot, in the order /帮助 lists them. Adding a command touches this list only. */
import type { CommandDef } from '../bot/command.js';
import { recordCommands } from '../handlers/records.js';
import { helpCommand } from '../handlers/help.js';

export function allCommands(): CommandDef<any>[] {
  return [...recordCommands, helpCommand];
}
