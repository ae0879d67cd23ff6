use async_trait::async_trait;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use streamvault_core::ErrorCode;
use streamvault_core::accounts::User;
use streamvault_core::accounts::username_key;
use streamvault_core::ids::UserId;
use streamvault_core::ports::UserRepo;
use streamvault_core::{Error, Result};
use uuid::Uuid;

use super::{from_ms, to_ms};
use crate::MetadataStore;
use crate::entity::user;
use crate::error::{db_err, is_unique_violation};

#[derive(Clone)]
pub struct SqlUserRepo {
    store: MetadataStore,
}

impl SqlUserRepo {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

fn to_domain(m: user::Model) -> User {
    User { id: m.id.into(), name: m.name, password_hash: m.password_hash, created_at: from_ms(m.created_at) }
}

#[async_trait]
impl UserRepo for SqlUserRepo {
    async fn insert(&self, u: &User) -> Result<()> {
        let row = user::ActiveModel {
            id: Set(u.id.into()),
            name: Set(u.name.clone()),
            name_key: Set(username_key(&u.name)),
            password_hash: Set(u.password_hash.clone()),
            created_at: Set(to_ms(u.created_at)),
            used_bytes: Set(0),
            drive_rev: Set(0),
            history_paused: Set(false),
        };
        match row.insert(self.store.connection()).await {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => {
                Err(Error::Conflict { code: ErrorCode::UsernameTaken, message: "that user name is taken".into() })
            }
            Err(e) => Err(db_err(e)),
        }
    }

    async fn find_by_name(&self, name: &str) -> Result<Option<User>> {
        let found = user::Entity::find()
            .filter(user::Column::NameKey.eq(username_key(name)))
            .one(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(found.map(to_domain))
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>> {
        let id: Uuid = id.into();
        let found = user::Entity::find_by_id(id).one(self.store.connection()).await.map_err(db_err)?;
        Ok(found.map(to_domain))
    }

    async fn set_password_hash(&self, id: UserId, hash: &str) -> Result<()> {
        let id: Uuid = id.into();
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, sea_orm::sea_query::Expr::value(hash))
            .filter(user::Column::Id.eq(id))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
