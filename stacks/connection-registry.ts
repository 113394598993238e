/**
 * The COS bucket that holds one object per open connection.
 */
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { CosBucket } from '../.gen/providers/tencentcloud/cos-bucket/index';
import { DataTencentcloudUserInfo } from '../.gen/providers/tencentcloud/data-tencentcloud-user-info/index';
import { KEY_PREFIX } from '../functions/lib/registry';
import type { ExecutionRole } from './execution-role';

export interface ConnectionRegistryProps {
  /** Bucket name before the app id; the bucket is `<namePrefix>-<appid>`. */
  readonly namePrefix: string;
  readonly region: string;
  /** The account's app id, e.g. `DataTencentcloudUserInfo.appId`. */
  readonly appId: string;
  /**
   * Connection objects older than this are deleted by COS: a cleanup event may never come.
   * @default 1
   */
  readonly expiryDays?: number;
}

/** A private bucket whose connection objects expire, emptied on destroy. */
export class ConnectionRegistry extends Construct {
  readonly bucket: CosBucket;
  /** `<namePrefix>-<appid>`, as a token until apply. */
  readonly bucketName: string;
  private readonly region: string;
  private readonly appId: string;

  constructor(scope: Construct, id: string, props: ConnectionRegistryProps) {
    super(scope, id);
    this.region = props.region;
    this.appId = props.appId;
    this.bucketName = `${props.namePrefix}-${props.appId}`;
    this.bucket = new CosBucket(this, 'bucket', {
      bucket: this.bucketName,
      acl: 'private',
      forceClean: true,
      lifecycleRules: [{ id: 'expire-connections', filterPrefix: KEY_PREFIX, expiration: { days: props.expiryDays ?? 1 } }],
    });
  }

  /** Builds the app id from the account of the provider, for callers that have none. */
  static appIdOf(scope: Construct): string {
    return Token.asString(new DataTencentcloudUserInfo(scope, 'account').appId);
  }

  /** Lets a role read, write, list and delete connection objects in this bucket, and nothing else. */
  grantReadWrite(role: ExecutionRole): void {
    role.addStatement({
      effect: 'allow',
      action: [
        'name/cos:PutObject',
        'name/cos:GetObject',
        'name/cos:HeadObject',
        'name/cos:DeleteObject',
        'name/cos:DeleteMultipleObjects',
        'name/cos:GetBucket',
      ],
      resource: [`qcs::cos:${this.region}:uid/${this.appId}:${this.bucketName}/*`],
    });
  }
}
