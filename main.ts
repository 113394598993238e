/**
 * The CDK for Terraform app (`cdktf synth`, `cdktf deploy`): one ChatStack per (stage, region) of
 * `config/app.json`, restricted by `--stage` / `--region` or STAGE / REGION.
 */
import { loadConfig } from './config/load';
import { selectionFrom } from './config/select';
import { synthesizeChatApp } from './stacks/app';

try {
  await synthesizeChatApp({ config: loadConfig(process.env.CHAT_CONFIG || undefined), selection: selectionFrom() });
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
