/**
 * Setup file of the e2e project (vitest `setupFiles`), run in each worker beside allure-vitest's own:
 * turns on the harness's Allure attachments and makes every `step()` of harness/util/log.ts an Allure
 * step too, named after who speaks (`create-default: booting (boot 1, tcg)`), so the report shows the
 * same nested, timed steps as the terminal.
 */
import { setStepHook } from '../util/log.js';
import { allureStep, enableAllure } from './allure.js';

enableAllure();
setStepHook((who, title, body) => allureStep(`${who}: ${title}`, body));
