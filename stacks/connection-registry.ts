/**
 * The COS bucket that holds one object per open connection.
 */
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { CosBucket } from '../.gen/providers/tencentcloud/cos-bucket/index';
import { DataTencentcloudUserInfo } from '../.gen/providers/tencentcloud/data-tencentcloud-user-info/index';
import { HISTORY_PREFIX } from '../functions/lib/history';
import { KEY_PREFIX } from '../functions/lib/registry';
import { MEMBER_PREFIX, ROOM_PREFIX, USER_PREFIX } from '../functions/lib/rooms';
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
  /**
   * Rooms' kept messages older than this are deleted by COS (the functions keep only the newest
   * `historySize` of each room anyway).
   * @default 7
   */
  readonly historyExpiryDays?: number;
}

/** The expiry rules: every kind of key a connection leaves behind expires as its record does. */
export function lifecycleRules(expiryDays = 1, historyExpiryDays = 7) {
  return [
    { id: 'expire-connections', filterPrefix: KEY_PREFIX, expiration: { days: expiryDays } },
    { id: 'expire-room-members', filterPrefix: ROOM_PREFIX, expiration: { days: expiryDays } },
    { id: 'expire-memberships', filterPrefix: MEMBER_PREFIX, expiration: { days: expiryDays } },
    { id: 'expire-user-connections', filterPrefix: USER_PREFIX, expiration: { days: expiryDays } },
    { id: 'expire-history', filterPrefix: HISTORY_PREFIX, expiration: { days: historyExpiryDays } },
  ];
}

/** A private bucket whose connection objects (records, room and user keys) and kept messages expire, emptied on destroy. */
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
      lifecycleRules: lifecycleRules(props.expiryDays, props.historyExpiryDays),
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
